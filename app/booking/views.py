"""Booking pages: teachers book, see and cancel; coordinators manage a session's roster."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.auth import permissions
from app.booking import services
from app.booking.admission import school_outlook, waiting_info
from app.booking.forms import AttendanceForm, BookingForm, CapacityForm, MoveForm, ReasonForm, SeriesForm
from app.booking.models import Booking, BookingStatus
from app.catalogue.availability import availability
from app.catalogue.services import offer_sessions
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.labs.models import Offer, Session
from app.web import form_id, int_arg, load_or_404, run_and_flash

bp = Blueprint("booking", __name__, template_folder="templates", url_prefix="/boekingen")


def _apply(form, exc: DomainError) -> None:
    """Put a domain error back on the form field it belongs to."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        flash(exc.message, "error")


def _commit_or_error(form=None) -> bool:
    try:
        db.session.commit()
        return True
    except (IntegrityError, DBAPIError):
        db.session.rollback()
        flash(_("Iemand anders was u net voor. Probeer het opnieuw."), "error")
        return False


def _details(form) -> services.ClassDetails:
    return services.ClassDetails(
        school_id=current_user.school_id, groep=form.groep.data, pupils=form.pupils.data, adults=form.adults.data,
        contact_name=form.contact_name.data.strip(), contact_email=form.contact_email.data.strip(),
        remarks=(form.remarks.data or "").strip(), girls=form.girls.data, boys=form.boys.data,
        class_name=(form.class_name.data or "").strip())


def _booked_message(booking) -> str:
    """What the teacher reads after booking: confirmed, or why the class waits and its place in line."""
    if booking.status == BookingStatus.CONFIRMED:
        return _("Uw boeking is bevestigd. U krijgt een e-mail met de afspraak.")
    info = waiting_info(booking, utcnow())
    if info.rule == "full":
        return _("De les is vol: uw klas staat op de wachtlijst (nummer %(n)s). U krijgt bericht als er plaats komt.",
                 n=info.position)
    return _("Uw klas staat op de wachtlijst (nummer %(n)s). Er is nog plaats, maar een spelregel houdt uw klas nu "
             "tegen: %(rule)s", n=info.position, rule=info.message)


def _prefill(form) -> dict:
    """Contact details from the account; a class the school keeps (?klas=, picked above the
    form) fills the class name, groep and pupils. Returns what the class picker shows."""
    from app.schools.coordinator import bookable_classes

    classes = bookable_classes(current_user)
    picked = next((c for c in classes if c.id == int_arg("klas", 0)), None)  # only the own school's classes
    if request.method == "GET":
        form.contact_name.data = form.contact_name.data or current_user.name
        form.contact_email.data = form.contact_email.data or current_user.email
        if picked is not None:
            form.class_name.data, form.groep.data, form.pupils.data = picked.name, picked.groep, picked.pupils
    return {"school_classes": classes, "picked": picked}


@bp.route("/nieuw", methods=["GET", "POST"])
@login_required
def new():
    session = load_or_404(Session, int_arg("session_id", 0), permissions.can_book)
    if session.offer.parts and len(session.offer.parts) > 1:
        return redirect(url_for("booking.new_series", offer_id=session.offer_id))
    form = BookingForm()
    picker = _prefill(form)
    status = 200
    if form.validate_on_submit():
        try:
            booking = services.create_booking(current_user, session.id, _details(form), waitlist=form.waitlist.data)
        except DomainError as exc:
            db.session.rollback()
            _apply(form, exc)
            status = 409 if exc.status == 409 else 422
        else:
            if _commit_or_error():
                flash(_booked_message(booking), "success")
                return redirect(url_for("booking.detail", booking_id=booking.id))
            status = 409
    elif form.errors:
        status = 422
    session = db.session.get(Session, session.id)
    return render_template("booking/new.html", form=form, session=session,
                           avail=availability(session, utcnow()),
                           outlook=school_outlook(current_user.school, session, utcnow())
                           if permissions.is_teacher(current_user) else None,
                           collect_gender=session.offer.region.collect_gender_counts,
                           pick_args={"session_id": session.id}, **picker), status


@bp.route("/reeks", methods=["GET", "POST"])
@login_required
def new_series():
    offer = load_or_404(Offer, int_arg("offer_id", 0), lambda u, o: permissions.is_teacher(u) and o.published)
    if len(offer.parts) < 2:
        abort(404)
    form = SeriesForm()
    picker = _prefill(form)
    grouped = offer_sessions(offer, utcnow())
    chosen = {p.id: form_id(f"part_{p.position}") for p in offer.parts}
    status = 200
    if form.validate_on_submit():
        missing = [p for p in offer.parts if not chosen.get(p.id)]
        if missing:
            flash(_("Kies een datum voor elk deel."), "error")
            status = 422
        else:
            try:
                series = services.create_series_booking(current_user, offer.id, [chosen[p.id] for p in offer.parts],
                                                        _details(form))
            except DomainError as exc:
                db.session.rollback()
                _apply(form, exc)
                status = 409 if exc.status == 409 else 422
            else:
                if _commit_or_error():
                    flash(_("Alle delen zijn geboekt. U krijgt een e-mail met de afspraken."), "success")
                    return redirect(url_for("booking.detail", booking_id=series.bookings[0].id))
                status = 409
    elif form.errors:
        status = 422
    return render_template("booking/new_series.html", form=form, offer=offer, grouped=grouped, chosen=chosen,
                           collect_gender=offer.region.collect_gender_counts,
                           pick_args={"offer_id": offer.id}, **picker), status


@bp.get("/")
@login_required
def my_bookings():
    if not permissions.is_teacher(current_user):
        abort(403)
    bookings = db.session.scalars(select(Booking).join(Session, Booking.session_id == Session.id)
                                  .where(Booking.school_id == current_user.school_id)
                                  .order_by(Session.starts_at)).all()
    now = utcnow()
    upcoming = [b for b in bookings if b.session.starts_at > now]
    past = [b for b in bookings if b.session.starts_at <= now][::-1]
    return render_template("booking/my_bookings.html", upcoming=upcoming, past=past, now=now,
                           can_cancel=lambda b: services.can_teacher_cancel(b, now))


@bp.get("/<int:booking_id>")
@login_required
def detail(booking_id: int):
    booking = load_or_404(Booking, booking_id, permissions.can_view_booking)
    bookings = list(booking.series.bookings) if booking.series is not None else [booking]
    from app.transport.services import pickup_times, return_times
    from app.transport.forms import FlagForm
    from app.transport.services import transport_info

    now = utcnow()
    return render_template("booking/detail.html", booking=booking, bookings=bookings,
                           pickups=pickup_times(bookings), returns=return_times(bookings), form=ReasonForm(),
                           transport={b.id: transport_info(b) for b in bookings}, bus_form=FlagForm(), now=now,
                           teacher_can_cancel=services.can_teacher_cancel(booking, now),
                           deadline=services.cancel_deadline(booking),
                           waiting=waiting_info(booking, now) if booking.status == BookingStatus.WAITLISTED else None)


def _answer_offer(booking_id: int, answer, done: str):
    """Accept or decline an offered place: whoever may cancel the booking answers for the class."""
    booking = load_or_404(Booking, booking_id, permissions.can_cancel_booking)
    if ReasonForm().validate_on_submit():
        run_and_flash(lambda: answer(current_user, booking.id), done)
    return redirect(url_for("booking.detail", booking_id=booking_id))


@bp.post("/<int:booking_id>/aanbod/aannemen")
@login_required
def accept_offer(booking_id: int):
    return _answer_offer(booking_id, services.accept_offer, _("U heeft de plaats aangenomen: uw boeking is bevestigd."))


@bp.post("/<int:booking_id>/aanbod/afslaan")
@login_required
def decline_offer(booking_id: int):
    return _answer_offer(booking_id, services.decline_offer,
                         _("U heeft de plaats afgeslagen; de volgende klas op de wachtlijst krijgt hem."))


@bp.post("/<int:booking_id>/annuleren")
@login_required
def cancel(booking_id: int):
    booking = load_or_404(Booking, booking_id, permissions.can_cancel_booking)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if booking.status == BookingStatus.WAITLISTED and booking.series is None:
            services.leave_waitlist(current_user, booking.id)
            message = _("Uw klas staat niet meer op de wachtlijst.")
        else:
            services.cancel_booking(current_user, booking.id, form.reason.data or "")
            message = _("De boeking is geannuleerd.")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("booking.detail", booking_id=booking_id))
    if _commit_or_error():
        flash(message, "success")
    if permissions.is_teacher(current_user):
        return redirect(url_for("booking.my_bookings"))
    if permissions.is_school_coordinator(current_user):
        return redirect(url_for("school.bookings"))
    return redirect(url_for("booking.roster", session_id=booking.session_id))


# ------------------------------------------------------------------ coordinators

@bp.get("/les/<int:session_id>")
@login_required
def roster(session_id: int):
    session = load_or_404(Session, session_id, permissions.can_manage_session)
    bookings = db.session.scalars(select(Booking).where(Booking.session_id == session.id)
                                  .order_by(Booking.created_at)).all()
    waiting = services.waitlist_order(session)
    others = db.session.scalars(select(Session).where(
        Session.offer_id == session.offer_id, Session.part_id.is_(session.part_id) if session.part_id is None
        else Session.part_id == session.part_id, Session.id != session.id, Session.starts_at > utcnow())
        .order_by(Session.starts_at).limit(100)).all()
    move_form = MoveForm()
    move_form.session_id.choices = [(s.id, f"{s.starts_at:%Y-%m-%d %H:%M} UTC") for s in others]
    cap_form = CapacityForm(capacity_pupils=session.capacity_pupils, capacity_classes=session.capacity_classes)
    return render_template("booking/roster.html", session=session, bookings=bookings, waiting=waiting,
                           move_form=move_form, cap_form=cap_form, reason_form=ReasonForm(),
                           attendance_form=AttendanceForm(), others=others, now=utcnow(),
                           statuses=BookingStatus)


@bp.post("/<int:booking_id>/verplaatsen")
@login_required
def move(booking_id: int):
    booking = load_or_404(Booking, booking_id, lambda u, b: permissions.can_manage_session(u, b.session))
    form = MoveForm()
    form.session_id.choices = [(form_id("session_id") or 0, "")]
    if form.validate_on_submit():
        run_and_flash(lambda: services.move_booking(current_user, booking.id, form.session_id.data, form.reason.data),
                      _("De boeking is verplaatst; de school krijgt bericht."))
    else:
        flash(_("Kies een datum en geef een reden."), "error")
    return redirect(url_for("booking.roster", session_id=booking.session_id))


@bp.post("/les/<int:session_id>/capaciteit")
@login_required
def capacity(session_id: int):
    session = load_or_404(Session, session_id, permissions.can_manage_session)
    form = CapacityForm()
    if form.validate_on_submit():
        run_and_flash(lambda: services.change_capacity(current_user, session.id, form.capacity_pupils.data,
                                                       form.capacity_classes.data), _("De capaciteit is aangepast."))
    else:
        flash(_("Vul geldige aantallen in."), "error")
    return redirect(url_for("booking.roster", session_id=session_id))


@bp.post("/les/<int:session_id>/annuleren")
@login_required
def cancel_session(session_id: int):
    session = load_or_404(Session, session_id, permissions.can_manage_session)
    form = ReasonForm()
    if form.validate_on_submit():
        run_and_flash(lambda: services.cancel_session(current_user, session.id, form.reason.data or ""),
                      lambda cancelled: _("De les is geannuleerd; %(n)s scholen krijgen bericht.", n=len(cancelled)))
    return redirect(url_for("booking.roster", session_id=session_id))


@bp.post("/<int:booking_id>/aanwezigheid")
@login_required
def attendance(booking_id: int):
    booking = load_or_404(Booking, booking_id, lambda u, b: permissions.can_manage_session(u, b.session))
    form = AttendanceForm()
    if form.validate_on_submit():
        run_and_flash(lambda: services.record_attendance(current_user, booking.id, form.status.data,
                                                         form.attended_pupils.data), _("Aanwezigheid vastgelegd."))
    return redirect(url_for("booking.roster", session_id=booking.session_id))


@bp.post("/les/<int:session_id>/uitzondering")
@login_required
def override(session_id: int):
    """A coordinator books a school outside the rules, with a reason (kept in the audit trail)."""
    from app.booking.forms import OverrideForm
    from app.schools.models import School

    session = load_or_404(Session, session_id, permissions.can_manage_session)
    form = OverrideForm()
    if not form.validate_on_submit():
        flash(_("Vul school, groep, aantallen en een reden in."), "error")
        return redirect(url_for("booking.roster", session_id=session_id))
    school = db.session.scalar(select(School).where(School.location_code == form.school_code.data.strip().upper(),
                                                    School.region_id == session.offer.region_id))
    if school is None:
        flash(_("Onbekende school (gebruik de vestigingscode, bijvoorbeeld 03AI00)."), "error")
        return redirect(url_for("booking.roster", session_id=session_id))
    run_and_flash(lambda: services.create_booking(current_user, session.id, services.ClassDetails(
        school.id, form.groep.data, form.pupils.data, form.adults.data, contact_name=school.name,
        class_name=(form.class_name.data or "").strip()),
        override_reason=form.reason.data.strip()), _("Uitzondering vastgelegd: %(school)s is geboekt.", school=school.name))
    return redirect(url_for("booking.roster", session_id=session_id))
