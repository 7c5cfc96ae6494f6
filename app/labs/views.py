"""The lab coordinator's workspace: venues, offers, session planning, staff, calendar, kits."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.auth import permissions
from app.extensions import db
from app.labs import queries, services
from app.labs.forms import ClosureForm, KitForm, KitReserveForm, OfferForm, PartForm, PlanForm, StaffForm, VenueForm
from app.labs.models import Kit, KitLoan, KitLoanStatus, Offer, OfferKind, PartLocation, Session, Staff, Venue, World
from app.labs.planning import Pattern
from app.timeutil import LOCAL_TZ, local_to_utc, school_year_of, to_local
from app.inputs import in_date_range, parse_date
from app.web import attempt, form_id, form_ids, handle_form, load_or_404

bp = Blueprint("labs", __name__, template_folder="templates", url_prefix="/beheer")


def _manager_only():
    if not (permissions.is_coordinator(current_user) or permissions.is_admin(current_user)):
        abort(403)


def _my_venues() -> list[Venue]:
    if permissions.is_admin(current_user):
        return list(db.session.scalars(select(Venue).order_by(Venue.name)))
    return sorted(current_user.venues, key=lambda v: v.name)


def _my_sessions_stmt(venue_ids):
    return (
        select(Session)
        .join(Offer, Session.offer_id == Offer.id)
        .where(or_(Session.venue_id.in_(venue_ids), Offer.venue_id.in_(venue_ids)))
        .options(selectinload(Session.offer), selectinload(Session.venue))
    )


@bp.get("/")
@login_required
def dashboard():
    _manager_only()
    venues = _my_venues()
    now = datetime.now(LOCAL_TZ)
    sessions = db.session.scalars(
        _my_sessions_stmt([v.id for v in venues])
        .where(Session.starts_at >= now, Session.starts_at < now + timedelta(days=14))
        .order_by(Session.starts_at)
    ).all()
    offers = db.session.scalars(
        select(Offer).where(Offer.venue_id.in_([v.id for v in venues])).order_by(Offer.school_year.desc(), Offer.title)
    ).all()
    return render_template("labs/dashboard.html", venues=venues, sessions=sessions, offers=offers)


# ------------------------------------------------------------------ venues


@bp.route("/locaties/nieuw", methods=["GET", "POST"], defaults={"venue_id": None})
@bp.route("/locaties/<int:venue_id>", methods=["GET", "POST"])
@login_required
def venue_edit(venue_id):
    _manager_only()
    venue = load_or_404(Venue, venue_id, permissions.can_manage_venue) if venue_id else None
    form = VenueForm(obj=venue) if request.method == "GET" and venue else VenueForm()
    if request.method == "GET" and venue:
        form.kind.data, form.opening_days.data = venue.kind.value, list(venue.opening_days)
    done = handle_form(
        form, lambda: services.save_venue(current_user, venue, _venue_data(form)), _("De locatie is opgeslagen.")
    )
    if done:
        return redirect(url_for("labs.venue_edit", venue_id=done.result.id))
    return render_template("labs/venue.html", form=form, venue=venue, closure_form=ClosureForm()), done.status


# the venue's text fields on the form (the service's VENUE_FIELDS without the kind, the opening
# days and the description, which the form does not edit)
_VENUE_TEXTS = tuple(f for f in services.VENUE_FIELDS if f not in ("kind", "description", "opening_days"))


def _venue_data(form) -> dict:
    data = {k: (getattr(form, k).data or "").strip() for k in _VENUE_TEXTS}
    data.update(
        kind=form.kind.data,
        opening_days="".join(sorted(form.opening_days.data)),
        latitude=float(form.latitude.data) if form.latitude.data is not None else None,
        longitude=float(form.longitude.data) if form.longitude.data is not None else None,
    )
    return data


@bp.post("/locaties/<int:venue_id>/sluiting")
@login_required
def venue_closure(venue_id: int):
    venue = load_or_404(Venue, venue_id, permissions.can_manage_venue)
    form = ClosureForm()
    if form.validate_on_submit():
        attempt(
            lambda: services.add_closure(
                current_user, venue, form.starts_on.data, form.ends_on.data, form.reason.data or ""
            ),
            _("Sluitingsdagen opgeslagen."),
        )
    else:
        flash(_("Vul beide datums in."), "error")
    return redirect(url_for("labs.venue_edit", venue_id=venue_id))


# ------------------------------------------------------------------ offers


def _offer_form(offer: Offer | None):
    if request.method == "GET" and offer is not None:
        form = OfferForm(obj=offer)
        form.kind.data, form.world.data = offer.kind.value, offer.world.value
        form.booking_opens_on.data = to_local(offer.booking_opens_at).date() if offer.booking_opens_at else None
        form.booking_closes_on.data = to_local(offer.booking_closes_at).date() if offer.booking_closes_at else None
    else:
        form = OfferForm()
        if request.method == "GET":
            form.school_year.data = school_year_of(date.today())
    form.venue_id.choices = [(v.id, v.name) for v in _my_venues()]
    return form


@bp.route("/aanbod/nieuw", methods=["GET", "POST"], defaults={"offer_id": None})
@bp.route("/aanbod/<int:offer_id>", methods=["GET", "POST"])
@login_required
def offer_edit(offer_id):
    _manager_only()
    offer = load_or_404(Offer, offer_id, permissions.can_manage_offer) if offer_id else None
    form = _offer_form(offer)
    done = handle_form(
        form, lambda: services.save_offer(current_user, offer, _offer_data(form)), _("Het aanbod is opgeslagen.")
    )
    if done:
        return redirect(url_for("labs.offer_edit", offer_id=done.result.id))
    from app.labs.materials import materials_of

    part_form = PartForm()
    venues = queries.region_venues(offer.region_id if offer else current_user.region_id)
    part_form.venue_id.choices = [(0, "—")] + [(v.id, v.name) for v in venues]
    return render_template(
        "labs/offer.html",
        form=form,
        offer=offer,
        part_form=part_form,
        materials=materials_of(offer.id) if offer else [],
    ), done.status


# the offer's fields the form gives as they are (the service's OFFER_FIELDS without those
# converted here: the kind, the world and the booking dates)
_OFFER_FIELDS = tuple(
    f for f in services.OFFER_FIELDS if f not in ("world", "kind", "booking_opens_at", "booking_closes_at")
)


def _offer_data(form) -> dict:
    data = {k: getattr(form, k).data for k in _OFFER_FIELDS}
    data.update(
        min_notice_days=form.min_notice_days.data or 0, change_deadline_days=form.change_deadline_days.data or 0
    )
    data.update(
        kind=OfferKind(form.kind.data),
        world=World(form.world.data),
        booking_opens_at=local_to_utc(form.booking_opens_on.data, time(0)) if form.booking_opens_on.data else None,
        booking_closes_at=local_to_utc(form.booking_closes_on.data, time(0)) if form.booking_closes_on.data else None,
    )
    return data


@bp.post("/aanbod/<int:offer_id>/deel")
@login_required
def offer_part(offer_id: int):
    offer = load_or_404(Offer, offer_id, permissions.can_manage_offer)
    form = PartForm()
    form.venue_id.choices = [(form_id("venue_id") or 0, "")]  # the service checks the venue (linkable)
    if form.validate_on_submit():
        attempt(
            lambda: services.save_part(
                current_user,
                offer,
                int(form.position.data),
                title=form.title.data,
                location=PartLocation(form.location.data),
                venue_id=form.venue_id.data or None,
                min_days=form.min_days.data,
                max_days=form.max_days.data,
            ),
            _("Het deel is opgeslagen."),
        )
    else:
        flash(_("Vul titel en dagen van het deel in."), "error")
    return redirect(url_for("labs.offer_edit", offer_id=offer_id))


@bp.post("/aanbod/<int:offer_id>/<action>")
@login_required
def offer_action(offer_id: int, action: str):
    offer = load_or_404(Offer, offer_id, permissions.can_manage_offer)
    if action == "kopieren":
        done = attempt(
            lambda: services.copy_offer_to_next_year(current_user, offer),
            _("Gekopieerd naar het volgende schooljaar (nog niet gepubliceerd)."),
        )
        return redirect(url_for("labs.offer_edit", offer_id=done.result.id if done else offer_id))
    if action not in ("publiceren", "verbergen"):
        abort(404)
    attempt(lambda: services.set_published(current_user, offer, action == "publiceren"), _("Opgeslagen."))
    return redirect(url_for("labs.offer_edit", offer_id=offer_id))


# ------------------------------------------------------------------ preparation material


@bp.post("/aanbod/<int:offer_id>/materiaal")
@login_required
def material_upload(offer_id: int):
    """A coordinator adds a file of preparation material to the offer (checked and stored by the service)."""
    offer = load_or_404(Offer, offer_id, permissions.can_manage_offer)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Kies een bestand."), "error")
    else:
        attempt(
            lambda: _store_material(offer, upload),
            lambda material: _("Het bestand %(name)s is toegevoegd.", name=material.filename),
        )
    return redirect(url_for("labs.offer_edit", offer_id=offer_id) + "#materiaal")


def _store_material(offer: Offer, upload):
    """Store the file and its row; the file goes again when the request's transaction does not commit."""
    from app.labs import materials
    from app.unit_of_work import after_rollback

    material = materials.add_material(current_user, offer, upload.filename, upload.stream)
    after_rollback(lambda: materials.discard(material))
    return material


@bp.post("/aanbod/<int:offer_id>/materiaal/<int:material_id>/verwijderen")
@login_required
def material_delete(offer_id: int, material_id: int):
    from app.labs import materials

    offer = load_or_404(Offer, offer_id, permissions.can_manage_offer)
    material = db.session.get(materials.OfferMaterial, material_id)
    if material is None or material.offer_id != offer.id:
        abort(404)
    attempt(lambda: _delete_material(material), _("Het bestand is verwijderd."))
    return redirect(url_for("labs.offer_edit", offer_id=offer_id) + "#materiaal")


def _delete_material(material) -> None:
    """Delete the row; its file is removed only once the request's transaction is committed."""
    from app.labs import materials
    from app.unit_of_work import after_commit

    materials.delete_material(current_user, material)
    after_commit(lambda: materials.discard(material))


# ------------------------------------------------------------------ sessions


@bp.route("/aanbod/<int:offer_id>/plannen", methods=["GET", "POST"])
@login_required
def plan(offer_id: int):
    offer = load_or_404(Offer, offer_id, permissions.can_manage_offer)
    form = PlanForm()
    form.part_id.choices = [(0, "—")] + [(p.id, f"{p.position}. {p.title}") for p in offer.parts]
    create = request.form.get("action") == "create"
    done = handle_form(form, lambda: _plan(offer, form, create))
    if done and create:
        flash(_("%(n)s lessen aangemaakt.", n=len(done.result.slots)), "success")
        return redirect(url_for("labs.sessions", offer_id=offer.id))
    return render_template("labs/plan.html", form=form, offer=offer, preview=done.result), done.status


def _plan(offer: Offer, form, create: bool):
    """Preview (or with ``create``, make) the sessions of the form's weekly pattern."""
    pattern = Pattern(
        frozenset(int(d) for d in form.weekdays.data),
        form.start.data,
        offer.duration_minutes,
        form.first_day.data,
        form.last_day.data,
    )
    return services.plan_sessions(
        current_user,
        offer,
        pattern,
        part=next((p for p in offer.parts if p.id == form.part_id.data), None),
        create=create,
        capacity_pupils=form.capacity_pupils.data,
        capacity_classes=form.capacity_classes.data,
    )


@bp.route("/aanbod/<int:offer_id>/lessen", methods=["GET", "POST"])
@login_required
def sessions(offer_id: int):
    offer = load_or_404(Offer, offer_id, permissions.can_manage_offer)
    if request.method == "POST":  # CSRFProtect has checked the token
        attempt(lambda: _bulk_change(offer), lambda message: message)
        return redirect(url_for("labs.sessions", offer_id=offer.id))
    period = request.args.get("periode", "toekomst")
    period = period if period in ("toekomst", "verleden", "alle") else "toekomst"
    return render_template(
        "labs/sessions.html",
        offer=offer,
        rows=queries.offer_sessions(offer.id, period, datetime.now(LOCAL_TZ)),
        period=period,
        pick_all=request.args.get("alle") == "1",
        staff=queries.active_staff(offer.region_id),
    )


def _bulk_change(offer: Offer) -> str:
    """Cancel, move or resize the ticked sessions of the offer; returns what the coordinator reads."""
    ids = form_ids("session_id")
    owned = sorted(db.session.scalars(select(Session.id).where(Session.id.in_(ids), Session.offer_id == offer.id)))
    if not owned:
        raise services.LabError(_("Kies eerst lessen."))
    action = request.form.get("action")
    try:
        if action == "cancel":
            n = services.bulk_cancel(current_user, owned, request.form.get("reason", "").strip())
            return _("%(n)s lessen geannuleerd; de scholen krijgen bericht.", n=n)
        if action == "retime":
            new_start = datetime.strptime(request.form.get("start", ""), "%H:%M").time()
            n = services.bulk_retime(current_user, owned, new_start)
            return _("%(n)s lessen verzet; geboekte scholen krijgen bericht.", n=n)
        pupils, classes = int(request.form.get("capacity_pupils", "")), int(request.form.get("capacity_classes", ""))
    except ValueError:
        raise services.LabError(_("Vul geldige aantallen in.")) from None
    n = services.bulk_capacity(current_user, owned, pupils, classes)
    return _("Capaciteit van %(n)s lessen aangepast.", n=n)


@bp.post("/les/<int:session_id>/medewerker")
@login_required
def assign(session_id: int):
    session_id = form_id("session_id") or session_id
    session = load_or_404(Session, session_id, permissions.can_manage_session)
    done = attempt(lambda: services.assign_staff(current_user, session, form_id("staff_id")))
    if done:
        _flash_assigned(db.session.get(Staff, form_id("staff_id")), done.result)
    return redirect(url_for("labs.sessions", offer_id=session.offer_id))


def _flash_assigned(staff: Staff, clashes: list[Session]) -> None:
    if clashes:
        flash(
            _(
                "Let op: %(name)s staat op dat moment ook bij: %(other)s.",
                name=staff.name,
                other=", ".join(f"{c.offer.title} {to_local(c.starts_at):%d-%m %H:%M}" for c in clashes),
            ),
            "error",
        )
    else:
        flash(_("%(name)s is ingeroosterd.", name=staff.name), "success")


@bp.post("/les/<int:session_id>/medewerker/verwijderen")
@login_required
def unassign(session_id: int):
    session = load_or_404(Session, session_id, permissions.can_manage_session)
    attempt(
        lambda: services.unassign_staff(current_user, session, form_id("staff_id")),
        lambda staff: _("%(name)s is niet meer ingeroosterd op deze les.", name=staff.name),
    )
    return redirect(url_for("labs.sessions", offer_id=session.offer_id))


@bp.post("/medewerkers/<int:staff_id>")
@login_required
def staff_edit(staff_id: int):
    _manager_only()
    person = load_or_404(Staff, staff_id)
    form = StaffForm()
    if form.validate_on_submit():
        attempt(
            lambda: services.update_staff(
                current_user, person, form.name.data, form.email.data or "", request.form.get("active") == "y"
            ),
            _("Medewerker opgeslagen."),
        )
    else:
        flash(_("Vul een naam en een geldig e-mailadres in."), "error")
    return redirect(url_for("labs.staff"))


@bp.route("/medewerkers", methods=["GET", "POST"])
@login_required
def staff():
    _manager_only()
    form = StaffForm()
    done = handle_form(
        form, lambda: services.add_staff(current_user, form.name.data, form.email.data), _("Medewerker toegevoegd.")
    )
    if done:
        return redirect(url_for("labs.staff"))
    return render_template("labs/staff.html", form=form, people=queries.region_staff(current_user.region_id))


# ------------------------------------------------------------------ calendar and day sheet


@bp.get("/agenda")
@login_required
def calendar():
    _manager_only()
    view = "month" if request.args.get("view") == "month" else "week"
    try:
        anchor = date.fromisoformat(request.args.get("date", "")) if request.args.get("date") else date.today()
    except ValueError:
        anchor = date.today()
    if not in_date_range(anchor):
        abort(400)
    first, last, prev, nxt = _calendar_range(view, anchor)
    venues = _my_venues()
    rows = queries.venue_sessions([v.id for v in venues], first, last)
    schools_at = queries.schools_at_school(rows)
    days = {}
    for s in rows:
        days.setdefault(to_local(s.starts_at).date(), []).append(s)
    return render_template(
        "labs/calendar.html",
        view=view,
        days=days,
        all_days=[first + timedelta(days=i) for i in range((last - first).days + 1)],
        first=first,
        last=last,
        prev=prev,
        nxt=nxt,
        venues=venues,
        schools_at=schools_at,
    )


def _calendar_range(view: str, anchor: date) -> tuple[date, date, date, date]:
    """The first and last day the calendar shows (the week or month around ``anchor``) and the
    first days of the previous and next one."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first + timedelta(days=6), first - timedelta(days=7), first + timedelta(days=7)
    first = anchor.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last, (first - timedelta(days=1)).replace(day=1), last + timedelta(days=1)


@bp.get("/dagoverzicht/<int:venue_id>/<day>")
@login_required
def day_sheet(venue_id: int, day: str):
    venue = load_or_404(Venue, venue_id, permissions.can_manage_venue)
    try:
        d = parse_date(day)
    except ValueError:
        abort(404)
    from app.transport.pickups import pickup_times

    rows = queries.day_sessions(venue.id, d)
    bookings = queries.attending(rows)
    pickups = pickup_times([b for bs in bookings.values() for b in bs])
    return render_template("labs/day_sheet.html", venue=venue, day=d, rows=rows, bookings=bookings, pickups=pickups)


# ------------------------------------------------------------------ kits


@bp.route("/leskisten", methods=["GET", "POST"])
@login_required
def kits():
    form, reserve_form = KitForm(), KitReserveForm()
    manager = permissions.is_coordinator(current_user) or permissions.is_admin(current_user)
    if request.method == "POST" and not manager:
        abort(403)
    if handle_form(form, lambda: _add_kit(form), _("Leskist toegevoegd.")):
        return redirect(url_for("labs.kits"))
    return render_template(
        "labs/kits.html",
        form=form,
        reserve_form=reserve_form,
        items=queries.region_kits(current_user.region_id),
        loans=queries.kit_loans(current_user.region_id, None if manager else current_user.school_id),
        manager=manager,
        statuses=KitLoanStatus,
    )


def _add_kit(form) -> Kit:
    return services.add_kit(
        current_user,
        form.title.data,
        form.description.data,
        World(form.world.data),
        form.stock.data,
        form.loan_days.data,
    )


@bp.post("/leskisten/<int:kit_id>/reserveren")
@login_required
def kit_reserve(kit_id: int):
    load_or_404(Kit, kit_id, permissions.can_reserve_kit)
    form = KitReserveForm()
    if form.validate_on_submit():
        attempt(
            lambda: services.reserve_kit(current_user, kit_id, form.starts_on.data, form.quantity.data),
            _("De leskist is gereserveerd."),
            reraise=(403, 404),
        )
    else:
        flash(_("Kies een datum en een aantal."), "error")
    return redirect(url_for("labs.kits"))


@bp.post("/leskisten/uitleen/<int:loan_id>/<status>")
@login_required
def kit_loan_status(loan_id: int, status: str):
    loan = load_or_404(KitLoan, loan_id, permissions.can_manage_kit_loan)
    try:
        new_status = KitLoanStatus(status)
    except ValueError:
        abort(404)
    if not attempt(lambda: services.set_loan_status(current_user, loan, new_status), reraise=(403, 404)):
        abort(400)
    return redirect(url_for("labs.kits"))
