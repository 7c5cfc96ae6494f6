"""The coordinator's desk (/bureau): bookings to search, filter, export and act on in bulk;
messages to a session's or a day's schools; the week grid of the lab's sessions."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth import permissions
from app.booking.models import BookingStatus
from app.desk import services
from app.desk.forms import MessageForm
from app.exports_safe import csv_stream
from app.inputs import content_disposition, parse_date
from app.labs.models import Session, Venue
from app.timeutil import to_local
from app.web import attempt, form_id, form_ids, handle_form, int_arg, load_or_404

bp = Blueprint("desk", __name__, template_folder="templates", url_prefix="/bureau")


def _desk_only() -> None:
    if not services.can_use_desk(current_user):
        abort(403)


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError:
        return None


def _filter() -> services.BookingFilter:
    status = request.args.get("status", "")
    return services.BookingFilter(
        school=" ".join(request.args.get("school", "").split())[:100],
        offer_id=int_arg("offer_id", None, lo=1),
        date_from=_date_arg("van"),
        date_to=_date_arg("tot"),
        status=status if status in {s.value for s in BookingStatus} else "",
    )


@bp.get("/")
@login_required
def bookings():
    _desk_only()
    f = _filter()
    page = int_arg("pagina", 1, lo=1, hi=10_000)
    rows, total = services.search(current_user, f, page)
    pages = max(1, (total + services.PAGE_SIZE - 1) // services.PAGE_SIZE)
    can_act = services.can_act(current_user)
    return render_template(
        "desk/bookings.html",
        f=f,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        offers=services.offers_for(current_user),
        statuses=BookingStatus,
        can_act=can_act,
        move_targets=services.move_targets(current_user, f.offer_id) if can_act and f.offer_id else [],
    )


def _csv_rows(rows):
    from app.labels import BOOKING_STATUS_LABELS

    for b in rows:
        s = b.session
        yield [
            to_local(s.starts_at).strftime("%d-%m-%Y"),
            to_local(s.starts_at).strftime("%H:%M"),
            s.offer.title,
            s.venue.name if s.venue else _("op school"),
            b.school.name,
            b.school.location_code,
            b.school.city,
            b.class_name or b.groep_label,
            b.groep_label,
            b.pupils,
            b.adults,
            str(BOOKING_STATUS_LABELS[b.status.value]),
            b.contact_name,
            b.contact_email,
            b.remarks,
        ]


def _csv_header() -> list[str]:
    return [
        _("Datum"),
        _("Tijd"),
        _("Aanbod"),
        _("Locatie"),
        _("School"),
        _("Vestigingscode"),
        _("Plaats"),
        _("Klas"),
        _("Groep"),
        _("Leerlingen"),
        _("Begeleiders"),
        _("Status"),
        _("Contactpersoon"),
        _("E-mail"),
        _("Opmerkingen"),
    ]


@bp.get("/boekingen.csv")
@login_required
def export():
    _desk_only()
    rows = _csv_rows(services.all_rows(current_user, _filter()))
    resp = Response(stream_with_context(csv_stream(_csv_header(), rows)), mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = content_disposition("boekingen.csv")
    return resp


ACTION_TITLES = {
    "cancel": lambda: _("Annuleren"),
    "move": lambda: _("Verplaatsen"),
    "message": lambda: _("Bericht sturen"),
}


BULK_ACTIONS = {  # the bulk form's action -> the desk service it calls with the chosen bookings
    "cancel": lambda ids, f: services.bulk_cancel(current_user, ids, f.get("reason", "")),
    "move": lambda ids, f: services.bulk_move(
        current_user, ids, form_id("session_id"), f.get("reason", ""), offer_id=form_id("offer_id")
    ),
    "message": lambda ids, f: services.bulk_message(current_user, ids, f.get("subject", ""), f.get("text", "")),
}


@bp.post("/bulk")
@login_required
def bulk():
    """One bulk action on the chosen bookings; the request's unit of work commits what went
    through (a refusal of the whole request is rolled back before the redirect)."""
    _desk_only()
    if not services.can_act(current_user):
        abort(403)
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS:
        abort(400)
    back = _back(request.form.get("back", ""))
    done = attempt(lambda: BULK_ACTIONS[action](form_ids("booking_id"), request.form))
    if not done:
        return redirect(back)
    return render_template("desk/result.html", result=done.result, title=ACTION_TITLES[action](), back=back)


def _back(back: str) -> str:
    from app.web import safe_next

    default = url_for("desk.bookings")
    target = safe_next(back, default)
    return target if target.startswith("/bureau") else default


# ------------------------------------------------------------------ messaging a session's or a day's schools


def _message_target():
    """The bookings to message and what they are: a session (session_id) or a venue's day (venue_id, dag)."""
    session_id = int_arg("session_id", None, lo=1) or form_id("session_id")
    if session_id:
        session = load_or_404(Session, session_id, permissions.can_manage_session)
        label = _(
            "de scholen van %(offer)s op %(when)s",
            offer=session.offer.title,
            when=to_local(session.starts_at).strftime("%d-%m-%Y %H:%M"),
        )
        return services.session_bookings(session), label, {"session_id": session.id}
    venue_id = int_arg("venue_id", None, lo=1) or form_id("venue_id")
    venue = load_or_404(Venue, venue_id or 0, permissions.can_manage_venue)
    try:
        day = parse_date(request.values.get("dag", ""))
    except ValueError:
        abort(404)
    label = _("de scholen die op %(day)s bij %(venue)s komen", day=day.strftime("%d-%m-%Y"), venue=venue.name)
    return services.day_bookings(venue, day), label, {"venue_id": venue.id, "dag": day.isoformat()}


@bp.route("/bericht", methods=["GET", "POST"])
@login_required
def message():
    _desk_only()
    if not services.can_act(current_user):
        abort(403)
    bookings, label, target = _message_target()
    form = MessageForm()
    done = handle_form(
        form, lambda: services.message_schools(current_user, bookings, form.subject.data, form.text.data), field="text"
    )
    if done:
        back = url_for("desk.message", **target)
        return render_template("desk/result.html", result=done.result, title=_("Bericht sturen"), back=back)
    errors = {name: f.errors[0] for name, f in (("subject", form.subject), ("text", form.text)) if f.errors}
    page = render_template("desk/message.html", bookings=bookings, label=label, target=target, form=form, errors=errors)
    return page, done.status


# ------------------------------------------------------------------ the week grid


@bp.get("/week")
@login_required
def week():
    _desk_only()
    first = services.week_start(_date_arg("datum") or date.today())
    days, places, grid = services.week_grid(services.week_sessions(current_user, first), first)
    return render_template(
        "desk/week.html",
        first=first,
        last=first + timedelta(days=6),
        days=days,
        places=sorted(places),
        venues=places,
        grid=grid,
        prev=first - timedelta(days=7),
        nxt=first + timedelta(days=7),
        today=date.today(),
        can_act=services.can_act(current_user),
    )
