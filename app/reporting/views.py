"""The reach dashboard for programme leaders (and coordinators), with exports."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_login import current_user, login_required
from sqlalchemy import select

from app.auth import permissions
from app.auth.models import Region, Role, User
from app.db import utcnow
from app.extensions import db
from app.labels import WORLD_LABELS
from app.labs.models import Offer, Venue, World
from app.reporting import charts, exports
from app.reporting.reach import DEFAULT_GROEPEN, HEADLINE_GROEPEN, Filters, headline, school_rows, summary, trend
from app.schools.models import School
from app.timeutil import school_year_label, school_year_of
from app.web import int_arg

bp = Blueprint("reporting", __name__, template_folder="templates", url_prefix="/bereik")


def _filters() -> Filters:
    if not (
        permissions.is_programme_leader(current_user)
        or permissions.is_coordinator(current_user)
        or permissions.is_admin(current_user)
    ):
        abort(403)
    region_id = current_user.region_id
    if permissions.is_admin(current_user):
        region_id = int_arg("region", lo=1)
    year = request.args.get("school_year", type=int) or school_year_of(utcnow())
    if not 2000 <= year <= 2100:
        abort(400)
    world = request.args.get("world") or None
    try:
        world = World(world) if world else None
    except ValueError:
        abort(400)
    return Filters(
        year,
        region_id,
        (request.args.get("municipality") or "")[:4],
        int_arg("offer", lo=1),
        world,
        int_arg("venue", lo=1),
    )


def _groepen() -> str:
    groepen = request.args.get("groepen") or DEFAULT_GROEPEN
    if groepen not in HEADLINE_GROEPEN:
        abort(400)
    return groepen


def _contacts(region_id) -> dict[int, str]:
    rows = db.session.execute(
        select(User.school_id, User.email).where(
            User.role == Role.TEACHER, User.active.is_(True), *([User.region_id == region_id] if region_id else [])
        )
    ).all()
    out: dict[int, str] = {}
    for sid, email in rows:
        out[sid] = (out[sid] + ", " + email) if sid in out else email
    return out


@bp.get("/")
@login_required
def dashboard():
    return render_template("reporting/dashboard.html", **_dashboard(_filters()))


def _dashboard(f) -> dict:
    """What the reach dashboard shows for these filters: the figures, charts and lists of schools."""
    groepen = _groepen()
    rows = school_rows(f)
    sm = summary(f, rows)
    head = headline(rows, groepen)
    tr = trend(f)
    region = db.session.get(Region, f.region_id) if f.region_id else None
    groep_bars = charts.bars([(str(g["groep"]), g["share"], f"{(g['share'] or 0) * 100:.0f}%") for g in sm.groepen])
    trend_points = charts.line(
        [(school_year_label(t["school_year"]), None if t["no_data"] else t["schools_reached"]) for t in tr]
    )
    series = sm.series
    funnel = charts.bars(
        [
            ("1", (series["part1"] / series["series"]) if series["series"] else None, str(series["part1"])),
            ("1+2", (series["parts12"] / series["series"]) if series["series"] else None, str(series["parts12"])),
            ("1+2+3", (series["all3"] / series["series"]) if series["series"] else None, str(series["all3"])),
        ],
        width=360,
    )
    scope = [Offer.region_id == f.region_id] if f.region_id else []
    offers = db.session.scalars(select(Offer).where(*scope).order_by(Offer.title)).all()
    venues = db.session.scalars(
        select(Venue).where(*([Venue.region_id == f.region_id] if f.region_id else [])).order_by(Venue.name)
    ).all()
    municipalities = sorted(
        {(r.school.municipality_code, r.school.municipality_name) for r in rows}, key=lambda m: m[1]
    )
    args = {k: v for k, v in request.args.items() if v and k != "notatie"}
    return dict(
        f=f,
        rows=rows,
        sm=sm,
        head=head,
        groepen=groepen,
        groepen_choices=list(HEADLINE_GROEPEN),
        trend=tr,
        region=region,
        groep_bars=groep_bars,
        trend_points=trend_points,
        trend_segments=charts.segments(trend_points),
        trend_running=[t["running"] for t in tr],
        funnel=funnel,
        map_points=charts.map_points(rows, venues),
        reach_class=charts.reach_class,
        offers=offers,
        venues=venues,
        municipalities=municipalities,
        worlds=WORLD_LABELS,
        args=args,
        year_label=school_year_label(f.school_year),
        contacts=_contacts(f.region_id),
        not_reached=sorted((r for r in rows if not r.reached), key=lambda r: -(r.distance_km or 0)),
        booked_not_visited=sorted(
            (r for r in rows if not r.classes and r.booked_not_visited), key=lambda r: r.school.name
        ),
    )


@bp.get("/school/<int:school_id>")
@login_required
def school(school_id: int):
    f = _filters()
    s = db.session.get(School, school_id)
    if s is None or (not permissions.is_admin(current_user) and s.region_id != current_user.region_id):
        abort(404)
    history = []
    for y in range(f.school_year - 4, f.school_year + 1):
        rows = school_rows(Filters(y, None, school_id=s.id))  # in whichever region it was that year
        history.append((school_year_label(y), rows[0] if rows else None))
    return render_template(
        "reporting/school.html", school=s, history=history, worlds={w.value: label for w, label in WORLD_LABELS.items()}
    )


# the tables of the dashboard by their name in a URL; XLSX has them all, one sheet each
TABLES = {
    "kerncijfers": "summary",
    "scholen": "schools",
    "groepen": "groepen",
    "trend": "trend",
    "afstand": "distance",
    "reeksen": "series",
    "niet-bereikt": "not_reached",
}


@bp.get("/export/<table>.<fmt>")
@login_required
def export(table: str, fmt: str):
    if table not in TABLES or fmt not in ("csv", "xlsx"):
        abort(404)
    f = _filters()
    groepen = _groepen()
    rows = school_rows(f)
    cache: dict = {}

    def sm():
        if "sm" not in cache:
            cache["sm"] = summary(f, rows)
        return cache["sm"]

    makers = {
        "summary": lambda: exports.summary_table(sm(), headline(rows, groepen)),
        "schools": lambda: exports.school_table(rows),
        "groepen": lambda: exports.groep_table(sm()),
        "trend": lambda: exports.trend_table(trend(f)),
        "distance": lambda: exports.distance_table(sm()),
        "series": lambda: exports.series_table(sm()),
        "not_reached": lambda: exports.not_reached_table(rows, _contacts(f.region_id)),
    }
    name = f"bereik-{table if fmt == 'csv' else 'alles'}-{f.school_year}"
    if fmt == "csv":
        header, body = makers[TABLES[table]]()
        international = request.args.get("notatie") == "internationaal"  # , and . instead of ; and ,
        resp = Response(
            stream_with_context(exports.csv_stream(header, body, international=international)), mimetype="text/csv"
        )
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        sheets = [(t, *makers[TABLES[t]]()) for t in TABLES]
        resp = Response(
            exports.xlsx_bytes(sheets, exports.definitions()),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    from app.inputs import content_disposition

    resp.headers["Content-Disposition"] = content_disposition(f"{name}.{fmt}")
    return resp
