"""Transport pages: the bus plan per day for coordinators, orders for the bus company, distances;
and the teacher's choice of own transport."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import exports_safe
from app.auth import permissions
from app.auth.models import Region
from app.booking.models import Booking
from app.db import utcnow
from app.extensions import db
from app.timeutil import to_local
from app.transport import edits, maps, orders, queries, riders, roads, shortfall, warnings
from app.transport.plans import plan_days, plans_on
from app.transport.forms import (
    ActionForm,
    AskSchoolForm,
    FlagForm,
    HireForm,
    MoveStopForm,
    RoadDistanceForm,
    RoadDistanceImportForm,
)
from app.transport.models import Bus, BusPlan, BusStop
from app.inputs import content_disposition, parse_date
from app.errors import DomainError
from app.web import attempt, handle_form, int_arg, load_or_404

bp = Blueprint("transport", __name__, template_folder="templates", url_prefix="/vervoer")


def _region() -> Region | None:
    """The coordinator's region (an administrator may pick one with ?regio=)."""
    if permissions.is_admin(current_user):
        rid = int_arg("regio", lo=1)
        return db.session.get(Region, rid) if rid else None
    region = db.session.get(Region, current_user.region_id) if current_user.region_id else None
    if region is None or not permissions.can_plan_transport(current_user, region):
        abort(403)
    return region


def _day(raw: str | None) -> date:
    if not raw:
        return to_local(utcnow()).date()
    try:
        return parse_date(raw)
    except ValueError:
        abort(400)


def _can_plan(user, obj) -> bool:
    return permissions.can_plan_transport(user, obj)


def _back(plan_or_bus_day) -> str:
    return url_for("transport.plans", datum=plan_or_bus_day.isoformat(), **_admin_args())


def _admin_args() -> dict:
    rid = int_arg("regio", lo=1)
    return {"regio": rid} if rid and permissions.is_admin(current_user) else {}


def _plan_day(plan: BusPlan) -> date:
    return to_local(plan.session.starts_at).date()


@bp.get("/")
@login_required
def plans():
    region = _region()
    day = _day(request.args.get("datum"))
    rid = region.id if region else None
    day_plans = plans_on(rid, day)
    lines, points = maps.route_map(_routes(day_plans))
    return render_template(
        "transport/plans.html",
        region=region,
        day=day,
        plans=day_plans,
        types=queries.active_bus_types(rid),
        warnings=warnings.describe(day_plans),
        lines=lines,
        points=points,
        carriers=sorted({bus.bus_type.carrier for p in day_plans for bus in p.buses}),
        form=ActionForm(),
        move_form=MoveStopForm(),
        days=plan_days(rid, to_local(utcnow()).date()),
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        admin_args=_admin_args(),
        replanning=_replanning(day_plans),
        session_titles={p.session_id: _session_title(p) for p in day_plans},
        hires=shortfall.hires_on(rid, day),
    )


def _routes(day_plans) -> list:
    """The day's buses for the route map: a name, the schools' points in route order, the venue."""
    routes = []
    for p in day_plans:
        v = p.session.venue
        for n, bus in enumerate(p.buses, start=1):
            stops = [
                (st.booking.school.name, st.booking.school.latitude, st.booking.school.longitude) for st in bus.stops
            ]
            routes.append(
                (
                    f"{p.session.offer.title} · bus {n}",
                    stops,
                    (v.name, v.latitude, v.longitude) if v else ("", None, None),
                )
            )
    return routes


def _session_title(p: BusPlan) -> str:
    return f"{to_local(p.session.starts_at):%H:%M} {p.session.offer.title}" + (
        f" ({p.session.venue.name})" if p.session.venue else ""
    )


def _replanning(plans) -> set[int]:
    """The sessions of these plans whose re-plan is still in the outbox."""
    from app.outbox.services import pending_replans

    return pending_replans([p.session_id for p in plans])


@bp.post("/bus/<int:bus_id>/vergrendelen")
@login_required
def lock_bus(bus_id: int):
    bus = load_or_404(Bus, bus_id, _can_plan)
    form = FlagForm()
    if not form.validate_on_submit():
        abort(400)
    locked = form.value.data == "1"
    attempt(
        lambda: edits.set_bus_locked(current_user, bus.id, locked),
        _("De bus is vergrendeld: herplannen laat hem zoals hij is.") if locked else _("De bus is ontgrendeld."),
    )
    return redirect(_back(_plan_day(bus.plan)))


@bp.post("/halte/<int:stop_id>/verplaatsen")
@login_required
def move_stop(stop_id: int):
    stop = load_or_404(BusStop, stop_id, _can_plan)
    day = _plan_day(stop.bus.plan)
    form = MoveStopForm()
    if not form.validate_on_submit():
        from flask import flash

        flash(_("Kies een bus."), "error")
        return redirect(_back(day))
    kind, _sep, ident = form.target.data.partition(":")
    target = {"to_bus_id": int(ident)} if kind == "bus" else {"new_type_id": int(ident)}
    attempt(
        lambda: edits.move_stop(current_user, stop.id, **target),
        _("De klas is verplaatst en blijft in die bus; de planning is bijgewerkt."),
    )
    return redirect(_back(day))


@bp.post("/halte/<int:stop_id>/losmaken")
@login_required
def unpin_stop(stop_id: int):
    stop = load_or_404(BusStop, stop_id, _can_plan)
    day = _plan_day(stop.bus.plan)
    if not ActionForm().validate_on_submit():
        abort(400)
    attempt(lambda: edits.unpin_stop(current_user, stop.id), _("De planner mag de klas weer indelen."))
    return redirect(_back(day))


@bp.post("/plan/<int:plan_id>/herplannen")
@login_required
def replan(plan_id: int):
    plan = load_or_404(BusPlan, plan_id, _can_plan)
    if not ActionForm().validate_on_submit():
        abort(400)
    attempt(lambda: edits.replan(current_user, plan.id), _("De bussen zijn opnieuw gepland."))
    return redirect(_back(_plan_day(plan)))


@bp.post("/plan/<int:plan_id>/gezien")
@login_required
def reviewed(plan_id: int):
    plan = load_or_404(BusPlan, plan_id, _can_plan)
    if not ActionForm().validate_on_submit():
        abort(400)
    attempt(lambda: edits.mark_reviewed(current_user, plan.id), _("Gezien: de bestelling blijft zoals hij is."))
    return redirect(_back(_plan_day(plan)))


@bp.post("/plan/<int:plan_id>/waarschuwingen-gezien")
@login_required
def warnings_seen(plan_id: int):
    plan = load_or_404(BusPlan, plan_id, _can_plan)
    if not ActionForm().validate_on_submit():
        abort(400)
    attempt(
        lambda: edits.mark_warnings_seen(current_user, plan.id),
        _("Gezien: de waarschuwingen staan er nog, maar het plan hoeft niet meer gecontroleerd te worden."),
    )
    return redirect(_back(_plan_day(plan)))


@bp.post("/huren")
@login_required
def hire():
    """Extra buses of a type for a day, for a shortfall: the day is re-planned after the commit."""
    region = _region()
    form = HireForm()
    if region is None or not form.validate_on_submit():
        abort(400)
    day = _day(form.datum.data)
    count = form.count.data
    attempt(
        lambda: shortfall.hire_buses(current_user, region, day, form.bus_type.data, count),
        _("Gehuurd: de bussen van die dag worden opnieuw gepland.")
        if count
        else _("Niet meer gehuurd: de bussen van die dag worden opnieuw gepland."),
    )
    return redirect(_back(day))


@bp.post("/plan/<int:plan_id>/school-vragen")
@login_required
def ask_school(plan_id: int):
    """Ask a school without a bus whether it can arrange its own transport (a mail, via the outbox)."""
    plan = load_or_404(BusPlan, plan_id, _can_plan)
    form = AskSchoolForm()
    if not form.validate_on_submit():
        abort(400)
    attempt(
        lambda: shortfall.ask_school(current_user, plan.id, form.booking.data),
        _("De school krijgt een mail met de vraag of ze zelf vervoer regelt."),
    )
    return redirect(_back(_plan_day(plan)))


def _order_lines(day_raw: str):
    region = _region()
    day = _day(day_raw)
    carrier = request.args.get("vervoerder") or None
    return region, day, carrier, orders.orders(region.id if region else None, day, carrier)


@bp.get("/bestelling/<datum>.csv")
@login_required
def orders_csv(datum: str):
    _region_, day, carrier, lines = _order_lines(datum)
    resp = Response(exports_safe.csv_text(orders.ORDER_HEADER, orders.order_rows(lines)), mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    name = f"busbestelling-{day.isoformat()}" + (f"-{_slug(carrier)}" if carrier else "")
    resp.headers["Content-Disposition"] = content_disposition(f"{name}.csv")
    return resp


def _slug(text: str) -> str:
    return "".join(c.lower() if c.isalnum() else "-" for c in text).strip("-")[:40] or "vervoerder"


@bp.get("/bestelling/<datum>")
@login_required
def orders_page(datum: str):
    region, day, carrier, lines = _order_lines(datum)
    by_carrier: dict[str, list] = {}
    for ln in lines:
        by_carrier.setdefault(ln.carrier, []).append(ln)
    return render_template(
        "transport/orders.html",
        region=region,
        day=day,
        carrier=carrier,
        by_carrier=by_carrier,
        admin_args=_admin_args(),
    )


@bp.route("/afstanden", methods=["GET", "POST"])
@login_required
def distances():
    """Known road distances: one entered by hand (action "one") or a CSV of them (action "csv")."""
    region = _region()
    if region is None:
        abort(404)
    form, upload = RoadDistanceForm(prefix="one"), RoadDistanceImportForm(prefix="csv")
    form.venue.choices = [(v.id, v.name) for v in queries.region_venues(region.id)]
    action = request.form.get("action") if request.method == "POST" else None
    if action == "one":
        done = handle_form(
            form,
            lambda: _save_distance(region, form),
            _("De afstand is opgeslagen; de busplanning gebruikt hem voortaan."),
        )
    elif action == "csv":
        done = handle_form(
            upload, lambda: _import_distances(region, upload), lambda n: _("%(n)s afstanden ingelezen.", n=n)
        )
    else:
        done = None
    if done:
        return redirect(url_for("transport.distances"))
    known = roads.known_distances(region.id)
    page = render_template("transport/distances.html", region=region, form=form, upload=upload, known=known)
    return page, done.status if done is not None else 200


def _save_distance(region: Region, form: RoadDistanceForm):
    school = queries.region_school(region.id, form.school.data)
    if school is None:
        raise DomainError(_("Deze school hoort niet bij uw regio."), field="school")
    minutes = float(form.minutes.data) if form.minutes.data is not None else None
    return roads.set_road_distance(current_user, school.id, form.venue.data, float(form.km.data), minutes)


def _import_distances(region: Region, upload: RoadDistanceImportForm) -> int:
    raw = upload.file.data.read(2_000_000)
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        content = raw.decode("latin-1")
    return roads.import_road_distances(current_user, region, content)


@bp.post("/boeking/<int:booking_id>/bus")
@login_required
def decline_bus(booking_id: int):
    booking = load_or_404(Booking, booking_id, permissions.can_decline_bus)
    form = FlagForm()
    if not form.validate_on_submit():
        abort(400)
    declined = form.value.data == "1"
    attempt(
        lambda: riders.set_bus_declined(current_user, booking.id, declined),
        _("U komt met eigen vervoer; de bus rijdt zonder uw klas.")
        if declined
        else _("Uw klas gaat met de bus; de ophaaltijd volgt."),
    )
    return redirect(url_for("booking.detail", booking_id=booking.id))
