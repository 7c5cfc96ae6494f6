"""Booking pages: teachers book, see and cancel; coordinators manage a session's roster."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as session_store
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.auth import permissions
from app.booking import queries, services
from app.booking.admission import school_outlook, waiting_info
from app.booking.forms import (
    AttendanceForm,
    BookingForm,
    CapacityForm,
    ChangeForm,
    DeclineRequestForm,
    MoveForm,
    ReasonForm,
    SeriesForm,
)
from app.booking.models import Booking, BookingStatus
from app.catalogue.availability import availability
from app.catalogue.services import offer_sessions
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.labs.models import Offer, Session
from app.web import attempt, form_id, handle_form, int_arg, load_or_404

bp = Blueprint("booking", __name__, template_folder="templates", url_prefix="/boekingen")


def _details(form) -> services.ClassDetails:
    return services.ClassDetails(
        school_id=current_user.school_id,
        groep=form.groep.data,
        pupils=form.pupils.data,
        adults=form.adults.data,
        contact_name=form.contact_name.data.strip(),
        contact_email=form.contact_email.data.strip(),
        remarks=(form.remarks.data or "").strip(),
        girls=form.girls.data,
        boys=form.boys.data,
        class_name=(form.class_name.data or "").strip(),
    )


def _booked_message(booking) -> str:
    """What the teacher reads after booking: confirmed, or why the class waits and its place in line."""
    if booking.status == BookingStatus.CONFIRMED:
        return _("Uw boeking is bevestigd. U krijgt een e-mail met de afspraak.")
    if booking.status == BookingStatus.REQUESTED:
        return _(
            "Uw aanvraag is verstuurd. De coördinator keurt elke boeking van dit aanbod goed; tot dan houden we "
            "de plaats voor uw klas vast. U krijgt een e-mail met het antwoord."
        )
    info = waiting_info(booking, utcnow())
    if info.rule == "full":
        return _(
            "De les is vol: uw klas staat op de wachtlijst (nummer %(n)s). U krijgt bericht als er plaats komt.",
            n=info.position,
        )
    return _(
        "Uw klas staat op de wachtlijst (nummer %(n)s). Er is nog plaats, maar een spelregel houdt uw klas nu "
        "tegen: %(rule)s",
        n=info.position,
        rule=info.message,
    )


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


def _limit_groep(form, offer) -> None:
    """The groep list holds only the offer's groepen (and their combinations), with no groep
    chosen in advance; the groep of the catalogue filter (?groep=7) is carried over."""
    from app.booking.forms import groep_choices

    form.groep.choices = [("", _("Kies een groep"))] + groep_choices(offer.groep_min, offer.groep_max)
    form.groep.validate_choice = False  # a groep outside the offer gets the admission rule's own message
    wanted = request.args.get("groep", "")
    if request.method == "GET" and not form.groep.data and wanted in {v for v, _label in form.groep.choices[1:]}:
        form.groep.data = wanted


@bp.route("/nieuw", methods=["GET", "POST"])
@login_required
def new():
    session = load_or_404(Session, int_arg("session_id", 0), permissions.can_book)
    if session.offer.parts and len(session.offer.parts) > 1:
        return redirect(url_for("booking.new_series", offer_id=session.offer_id))
    form = BookingForm()
    _limit_groep(form, session.offer)
    picker = _prefill(form)
    done = handle_form(
        form,
        lambda: services.create_booking(current_user, session.id, _details(form), waitlist=form.waitlist.data),
        _booked_message,
    )
    if done:
        return redirect(url_for("booking.detail", booking_id=done.result.id))
    return _new_page(form, db.session.get(Session, session.id), picker), done.status


def _new_page(form, session: Session, picker: dict) -> str:
    return render_template(
        "booking/new.html",
        form=form,
        session=session,
        avail=availability(session, utcnow()),
        outlook=school_outlook(current_user.school, session, utcnow())
        if permissions.is_teacher(current_user)
        else None,
        inside_deadline=session.starts_at - timedelta(days=session.offer.cancel_deadline_days) <= utcnow(),
        collect_gender=session.offer.region.collect_gender_counts,
        pick_args={"session_id": session.id},
        **picker,
    )


def _series_picker(offer, grouped):
    """The picker's view of an offer: candidates per part (bookable dates and the room for a class),
    the scarce part to start from, and the one places figure per date (capped at what every part
    can take, so part 1 at school does not promise 32 places when the lab takes 30)."""
    from app.booking import series_picker as sp
    from app.labs.capacity import class_room
    from app.timeutil import to_local

    # the picker counts parts 1..n in order (offer.parts is ordered by position)
    parts = [
        sp.PartSpec(i, p.min_days_after_previous, p.max_days_after_previous, at_venue=p.location.value == "venue")
        for i, p in enumerate(offer.parts, start=1)
    ]
    sessions, candidates = {}, {}
    for i, p in enumerate(offer.parts, start=1):
        for s, a in grouped.get(p.id, []):
            if a.bookable:
                sessions[s.id] = s
                candidates.setdefault(i, []).append(sp.Candidate(s.id, to_local(s.starts_at).date(), class_room(s)))
    # the largest class the whole series can take (a part without dates leaves the others' figures alone)
    cap = min((max(c.room for c in cs) for cs in candidates.values() if cs), default=0)
    anchor = sp.anchor_position(parts, candidates)
    return parts, sessions, candidates, cap, anchor


@bp.route("/reeks", methods=["GET", "POST"])
@login_required
def new_series():
    offer = load_or_404(Offer, int_arg("offer_id", 0), lambda u, o: permissions.is_teacher(u) and o.published)
    if len(offer.parts) < 2:
        abort(404)
    form = SeriesForm()
    _limit_groep(form, offer)
    picker = _prefill(form)
    state = _series_state(offer, form)
    done = handle_form(form, lambda: _book_series(offer, state["chosen"], form), _series_message)
    if done:
        return redirect(url_for("booking.detail", booking_id=done.result.bookings[0].id))
    return render_template("booking/new_series.html", form=form, offer=offer, **state, **picker), done.status


def _series_state(offer, form) -> dict:
    """What the series page shows: the anchor part's proposals (for the form's class size), the
    dates a teacher may pick per part (within the chosen proposal's windows unless by hand) and
    the dates chosen so far."""
    from app.booking import series_picker as sp

    grouped = offer_sessions(offer, utcnow(), limit=1000)
    parts, sessions, candidates, cap, anchor = _series_picker(offer, grouped)
    # "Data voor deze klas tonen" re-shows step 1 for the class size; it chooses no date yet
    anchor_id = int_arg("anker") if request.values.get("anker") and not request.args.get("herbereken") else None
    anchor_id = anchor_id if anchor_id in {c.key for c in candidates.get(anchor, [])} else None
    # the class size the proposals must fit: the picked class, the form, or step 1's ?leerlingen=
    if request.method == "GET" and not form.pupils.data:
        form.pupils.data = int_arg("leerlingen", None, lo=1, hi=40)
    pupils = form.pupils.data if isinstance(form.pupils.data, int) and form.pupils.data > 0 else 1
    proposals = {}  # anchor session id -> proposed chain
    for c in candidates.get(anchor, []):
        chain = sp.propose(parts, candidates, c.key, pupils)
        if chain is not None:
            proposals[c.key] = chain
    proposal = proposals.get(anchor_id) if anchor_id else None
    if anchor_id is not None and proposal is None:
        anchor_id = None
    by_hand = request.values.get("zelf") == "1" or (request.method == "POST" and anchor_id is None)
    choices = {}  # position -> the candidates a teacher may pick by hand
    for p in parts:
        cs = candidates.get(p.position, [])
        if proposal is not None and not by_hand:
            lo, hi = sp.window(parts, anchor, proposal[anchor - 1].day, p.position)
            cs = [c for c in cs if lo <= c.day <= hi]
        choices[p.position] = cs
    chosen = {p.id: form_id(f"part_{p.position}") for p in offer.parts}
    if request.method == "GET" and proposal is not None:
        chosen = {p.id: c.key for p, c in zip(offer.parts, proposal, strict=True)}
    return {
        "chosen": chosen,
        "sessions": sessions,
        "anchor": anchor,
        "anchor_id": anchor_id,
        "proposals": proposals,
        "proposal": proposal,
        "choices": choices,
        "by_hand": by_hand,
        "figure": lambda c: min(c.room, cap),
        "cap": cap,
        "anchor_part": offer.parts[anchor - 1],
        "proposal_room": min(sp.chain_room(proposal), cap) if proposal else 0,
        "collect_gender": offer.region.collect_gender_counts,
        "pick_args": {"offer_id": offer.id},
    }


def _book_series(offer, chosen: dict, form):
    if any(not chosen.get(p.id) for p in offer.parts):
        raise DomainError(_("Kies een datum voor elk deel."))
    return services.create_series_booking(current_user, offer.id, [chosen[p.id] for p in offer.parts], _details(form))


def _series_message(series) -> str:
    if series.status == BookingStatus.REQUESTED:
        return _booked_message(series.bookings[0])
    return _("Alle delen zijn geboekt. U krijgt een e-mail met de afspraken.")


@bp.get("/")
@login_required
def my_bookings():
    if not permissions.is_teacher(current_user):
        from app.desk.services import can_use_desk

        if can_use_desk(current_user):  # the bookings of a coordinator (or leader) are on the desk
            return redirect(url_for("desk.bookings"))
        abort(403)
    bookings = queries.school_bookings(current_user.school_id)
    now = utcnow()
    upcoming = [b for b in bookings if b.session.starts_at > now]
    past = [b for b in bookings if b.session.starts_at <= now][::-1]
    return render_template(
        "booking/my_bookings.html",
        upcoming=upcoming,
        past=past,
        now=now,
        can_cancel=lambda b: services.can_teacher_cancel(b, now),
    )


@bp.get("/<int:booking_id>")
@login_required
def detail(booking_id: int):
    booking = load_or_404(Booking, booking_id, permissions.can_view_booking)
    return render_template("booking/detail.html", **_detail_context(booking, utcnow()))


def _detail_context(booking: Booking, now) -> dict:
    """The booking page: the booking (and the rest of its series), transport, and what the user may do."""
    from app.transport.forms import FlagForm
    from app.transport.pickups import pickup_times, return_times
    from app.transport.riders import transport_info

    bookings = list(booking.series.bookings) if booking.series is not None else [booking]
    return {
        "booking": booking,
        "bookings": bookings,
        "pickups": pickup_times(bookings),
        "returns": return_times(bookings),
        "form": ReasonForm(),
        "transport": {b.id: transport_info(b) for b in bookings},
        "bus_form": FlagForm(),
        "now": now,
        "teacher_can_cancel": services.can_teacher_cancel(booking, now),
        "deadline": services.cancel_deadline(booking),
        "can_change": _may_change(booking, now),
        "change_deadline": services.change_deadline(booking),
        "contact": services.lab_contact(booking),
        "waiting": waiting_info(booking, now) if booking.status == BookingStatus.WAITLISTED else None,
        "can_undo": services.can_undo_cancel(current_user, booking, now),
        "undo_until": services.undo_deadline(booking),
    }


def _answer_offer(booking_id: int, answer, done: str):
    """Accept or decline an offered place: whoever may cancel the booking answers for the class."""
    booking = load_or_404(Booking, booking_id, permissions.can_cancel_booking)
    if ReasonForm().validate_on_submit():
        attempt(lambda: answer(current_user, booking.id), done)
    return redirect(url_for("booking.detail", booking_id=booking_id))


@bp.post("/<int:booking_id>/aanbod/aannemen")
@login_required
def accept_offer(booking_id: int):
    return _answer_offer(booking_id, services.accept_offer, _("U heeft de plaats aangenomen: uw boeking is bevestigd."))


@bp.post("/<int:booking_id>/aanbod/afslaan")
@login_required
def decline_offer(booking_id: int):
    return _answer_offer(
        booking_id,
        services.decline_offer,
        _("U heeft de plaats afgeslagen; de volgende klas op de wachtlijst krijgt hem."),
    )


def _may_change(booking: Booking, now) -> bool:
    """Whether the change page offers itself: a teacher until the change deadline, a coordinator until the start."""
    if not permissions.can_change_booking(current_user, booking) or booking.status not in services.CHANGE_STATUSES:
        return False
    if permissions.is_teacher(current_user):
        return services.can_teacher_change(booking, now)
    return booking.session.starts_at > now


def _place_outcome(booking: Booking) -> str:
    """What happens to the place when this booking is cancelled, in words for the confirmation step."""
    bookings = list(booking.series.bookings) if booking.series is not None else [booking]
    if booking.status == BookingStatus.WAITLISTED:
        return _("Uw klas gaat van de wachtlijst af. Er verandert niets voor andere klassen.")
    if booking.status == BookingStatus.REQUESTED:
        return _("Uw aanvraag wordt ingetrokken. De plaats die voor uw klas werd vastgehouden, komt vrij.")
    waiting = any(services.waitlist_order(b.session) for b in bookings if b.holds_place)
    if waiting:
        return _("De plaats gaat meteen naar de volgende klas op de wachtlijst. U kunt hem daarna niet terugkrijgen.")
    return _("De plaats komt vrij en andere scholen kunnen hem boeken. U kunt hem daarna niet terugkrijgen.")


@bp.route("/<int:booking_id>/annuleren", methods=["GET", "POST"])
@login_required
def cancel(booking_id: int):
    """Cancelling takes two steps: this page says what happens to the place (and, inside the
    cancellation deadline, whom to contact); only its form's POST cancels."""
    booking = load_or_404(Booking, booking_id, permissions.can_cancel_booking)
    form = ReasonForm()
    if request.method == "GET":
        return _cancel_page(booking, form)
    if not form.validate_on_submit():
        abort(400)
    if not attempt(lambda: _cancel(booking, form.reason.data or ""), lambda message: message):
        return redirect(url_for("booking.detail", booking_id=booking_id))
    if services.undo_deadline(booking) is not None:
        session_store["undo_booking"] = booking.id  # the next page offers "Ongedaan maken" (base.html)
    return redirect(_after_cancel(booking))


def _cancel(booking: Booking, reason: str) -> str:
    """Cancel the booking (or take the class off the waiting list); returns what the user reads."""
    if booking.status == BookingStatus.WAITLISTED and booking.series is None:
        services.leave_waitlist(current_user, booking.id)
        return _("Uw klas staat niet meer op de wachtlijst.")
    was_request = booking.status == BookingStatus.REQUESTED
    services.cancel_booking(current_user, booking.id, reason)
    return _("Uw aanvraag is ingetrokken.") if was_request else _("De boeking is geannuleerd.")


def _after_cancel(booking: Booking) -> str:
    if permissions.is_teacher(current_user):
        return url_for("booking.my_bookings")
    if permissions.is_school_coordinator(current_user):
        return url_for("school.bookings")
    return url_for("booking.roster", session_id=booking.session_id)


def _cancel_page(booking: Booking, form) -> str:
    now = utcnow()
    bookings = list(booking.series.bookings) if booking.series is not None else [booking]
    teacher = permissions.is_teacher(current_user) or permissions.is_school_coordinator(current_user)
    cancellable = booking.status in services.CANCELLABLE and (not teacher or services.can_teacher_cancel(booking, now))
    return render_template(
        "booking/cancel.html",
        booking=booking,
        bookings=bookings,
        form=form,
        teacher=teacher,
        cancellable=cancellable,
        outcome=_place_outcome(booking) if cancellable else "",
        deadline=services.cancel_deadline(booking),
        contact=services.lab_contact(booking),
    )


@bp.route("/<int:booking_id>/wijzigen", methods=["GET", "POST"])
@login_required
def change(booking_id: int):
    """Change the class's counts, contact, remarks and the class itself, until the offer's change deadline."""
    booking = load_or_404(Booking, booking_id, permissions.can_change_booking)
    now = utcnow()
    form = _change_form(booking)
    done = handle_form(
        form,
        lambda: services.change_booking(current_user, booking.id, _changes(form), now=now),
        _("De boeking is gewijzigd. U krijgt een e-mail met de wijziging."),
    )
    if done:
        return redirect(url_for("booking.detail", booking_id=booking.id))
    booking = db.session.get(Booking, booking_id)
    return render_template(
        "booking/change.html",
        booking=booking,
        form=form,
        may_change=_may_change(booking, now),
        change_deadline=services.change_deadline(booking),
        contact=services.lab_contact(booking),
    ), done.status


def _change_form(booking: Booking) -> ChangeForm:
    if request.method == "GET":
        # a class named after its groep shows an empty name, so that it follows a new groep
        form = ChangeForm(
            data={
                "groep": booking.groep_label,
                "class_name": "" if booking.class_name == booking.groep_label else booking.class_name,
                "pupils": booking.pupils,
                "adults": booking.adults,
                "contact_name": booking.contact_name,
                "contact_email": booking.contact_email,
                "remarks": booking.remarks,
            }
        )
    else:
        form = ChangeForm()
    if booking.groep_label not in [c[0] for c in form.groep.choices]:
        form.groep.choices = list(form.groep.choices) + [(booking.groep_label, booking.groep_label)]
    return form


def _changes(form) -> dict:
    return {
        "groep": form.groep.data,
        "class_name": (form.class_name.data or "").strip(),
        "pupils": form.pupils.data,
        "adults": form.adults.data,
        "contact_name": form.contact_name.data.strip(),
        "contact_email": form.contact_email.data.strip(),
        "remarks": (form.remarks.data or "").strip(),
    }


@bp.post("/<int:booking_id>/herstellen")
@login_required
def undo_cancel(booking_id: int):
    """Undo a cancellation within the grace period, when the place is still free (admission decides)."""
    booking = load_or_404(Booking, booking_id, permissions.can_cancel_booking)
    session_store.pop("undo_booking", None)
    if ReasonForm().validate_on_submit():
        attempt(
            lambda: services.undo_cancel(current_user, booking.id),
            _("De annulering is ongedaan gemaakt: de boeking is weer bevestigd."),
        )
    return redirect(url_for("booking.detail", booking_id=booking_id))


# ------------------------------------------------------------------ coordinators


@bp.get("/les/<int:session_id>")
@login_required
def roster(session_id: int):
    session = load_or_404(Session, session_id, permissions.can_manage_session)
    others = queries.other_dates(session, utcnow())
    move_form = MoveForm()
    move_form.session_id.choices = [(s.id, f"{s.starts_at:%Y-%m-%d %H:%M} UTC") for s in others]
    return render_template(
        "booking/roster.html",
        session=session,
        bookings=queries.session_bookings(session.id),
        waiting=services.waitlist_order(session),
        schools=queries.region_schools(session.offer.region_id),
        move_form=move_form,
        cap_form=CapacityForm(capacity_pupils=session.capacity_pupils, capacity_classes=session.capacity_classes),
        reason_form=ReasonForm(),
        attendance_form=AttendanceForm(),
        others=others,
        now=utcnow(),
        statuses=BookingStatus,
    )


@bp.post("/<int:booking_id>/verplaatsen")
@login_required
def move(booking_id: int):
    booking = load_or_404(Booking, booking_id, lambda u, b: permissions.can_manage_session(u, b.session))
    form = MoveForm()
    form.session_id.choices = [(form_id("session_id") or 0, "")]
    if form.validate_on_submit():
        attempt(
            lambda: services.move_booking(current_user, booking.id, form.session_id.data, form.reason.data),
            _("De boeking is verplaatst; de school krijgt bericht."),
        )
    else:
        flash(_("Kies een datum en geef een reden."), "error")
    return redirect(url_for("booking.roster", session_id=booking.session_id))


@bp.post("/les/<int:session_id>/capaciteit")
@login_required
def capacity(session_id: int):
    session = load_or_404(Session, session_id, permissions.can_manage_session)
    form = CapacityForm()
    if form.validate_on_submit():
        attempt(
            lambda: services.change_capacity(
                current_user, session.id, form.capacity_pupils.data, form.capacity_classes.data
            ),
            _("De capaciteit is aangepast."),
        )
    else:
        flash(_("Vul geldige aantallen in."), "error")
    return redirect(url_for("booking.roster", session_id=session_id))


@bp.post("/les/<int:session_id>/annuleren")
@login_required
def cancel_session(session_id: int):
    session = load_or_404(Session, session_id, permissions.can_manage_session)
    form = ReasonForm()
    if form.validate_on_submit():
        attempt(
            lambda: services.cancel_session(current_user, session.id, form.reason.data or ""),
            lambda cancelled: ngettext(
                "De les is geannuleerd; %(num)d school krijgt bericht.",
                "De les is geannuleerd; %(num)d scholen krijgen bericht.",
                len(cancelled),
            ),
        )
    return redirect(url_for("booking.roster", session_id=session_id))


@bp.post("/<int:booking_id>/aanwezigheid")
@login_required
def attendance(booking_id: int):
    booking = load_or_404(Booking, booking_id, lambda u, b: permissions.can_manage_session(u, b.session))
    form = AttendanceForm()
    if form.validate_on_submit():
        attempt(
            lambda: services.record_attendance(current_user, booking.id, form.status.data, form.attended_pupils.data),
            _("Aanwezigheid vastgelegd."),
        )
    return redirect(url_for("booking.roster", session_id=booking.session_id))


@bp.post("/les/<int:session_id>/uitzondering")
@login_required
def override(session_id: int):
    """A coordinator books a school outside the rules, with a reason (kept in the audit trail)."""
    from app.booking.forms import OverrideForm

    session = load_or_404(Session, session_id, permissions.can_manage_session)
    form = OverrideForm()
    if not form.validate_on_submit():
        flash(_("Vul school, groep, aantallen en een reden in."), "error")
    else:
        attempt(
            lambda: _book_override(session, form),
            lambda b: _("Uitzondering vastgelegd: %(school)s is geboekt.", school=b.school.name),
        )
    return redirect(url_for("booking.roster", session_id=session_id))


def _book_override(session: Session, form):
    """Book the one school the form names (a part of its name or its code) outside the rules."""
    from app.schools.lookup import find_school_by_name_or_code

    matches = find_school_by_name_or_code(session.offer.region_id, form.school_code.data)
    if len(matches) != 1:
        raise DomainError(
            _("Kies de school uit de lijst: er zijn meerdere scholen met die naam.")
            if matches
            else _("Onbekende school: typ een deel van de naam en kies de school uit de lijst.")
        )
    school = matches[0]
    details = services.ClassDetails(
        school.id,
        form.groep.data,
        form.pupils.data,
        form.adults.data,
        contact_name=school.name,
        class_name=(form.class_name.data or "").strip(),
    )
    return services.create_booking(current_user, session.id, details, override_reason=form.reason.data.strip())


# ------------------------------------------------------------------ approval of requests


@bp.get("/aanvragen")
@login_required
def requests():
    """The coordinator's requests waiting for an answer, each with the other classes in its session(s)."""
    if not (permissions.is_coordinator(current_user) or permissions.is_admin(current_user)):
        abort(403)
    pending = services.pending_requests(current_user)
    return render_template(
        "booking/requests.html",
        pending=pending,
        competing={b.id: services.competing(b) for b in pending},
        form=ReasonForm(),
        decline_form=DeclineRequestForm(),
    )


@bp.post("/<int:booking_id>/goedkeuren")
@login_required
def approve(booking_id: int):
    booking = load_or_404(Booking, booking_id, permissions.can_answer_request)
    if ReasonForm().validate_on_submit():
        attempt(
            lambda: services.approve_booking(current_user, booking.id),
            _("De aanvraag is goedgekeurd; de school krijgt een bevestiging."),
        )
    return redirect(_after_answer())


@bp.post("/<int:booking_id>/afwijzen")
@login_required
def decline_request(booking_id: int):
    booking = load_or_404(Booking, booking_id, permissions.can_answer_request)
    form = DeclineRequestForm()
    if form.validate_on_submit():
        attempt(
            lambda: services.decline_request(current_user, booking.id, form.reason.data),
            _("De aanvraag is afgewezen; de school krijgt bericht en de plaats komt vrij."),
        )
    else:
        flash(_("Geef een reden: de school krijgt die te lezen."), "error")
    return redirect(_after_answer())


def _after_answer() -> str:
    """Back where the request was answered: the requests page, or a session's roster (?next=)."""
    from app.web import safe_next

    return safe_next(request.form.get("next"), url_for("booking.requests"))
