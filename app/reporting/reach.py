"""Reach per school year: read-only measures for programme leaders.

Definitions (tested against a hand-computed data set in tests/reporting/):

* A class is reached when it has an **attended** booking; a class is (school, groep range)
  and counts once however many visits it had. Its pupils are the most that attended any
  of its visits. A combination class (7/8) spreads its pupils evenly over its groepen.
* Enrolment per groep comes from the school data (real per age, else an even split of the
  total, marked estimated); a school without data has no enrolment and no share.
* A school is reached when at least one of its classes is.
* The recruitment list ("niet bereikt") uses the one meaning of "reached" the fairness rules
  use (app.booking.reached: attended, or confirmed and still to come); schools with a
  confirmed visit still to come are shown apart, as "geboekt, nog niet geweest".
* Sessions held: past sessions with at least one attended class.
* Series completion counts series bookings by how far the class got: part 1, 1+2, all three.
* Girls and boys (optional aggregate counts per booking) count each class once, like its pupils.

All aggregation is done in SQL; Python only assembles the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import time, timedelta

from sqlalchemy import and_, case, func, or_, select

from app.auth.models import Region
from app.booking.models import Booking, BookingStatus, SeriesBooking
from app.extensions import db
from app.labs.models import Offer, Session, Venue, World
from app.schools.enrolment import enrolment_by_groep
from app.schools.membership import region_in_year
from app.schools.models import School, SchoolKind, SchoolRegion
from app.timeutil import local_to_utc, school_year_bounds
from app.transport.distance import road_km
from app.transport.models import Bus, BusStop

DISTANCE_BANDS = [(0, 6, "0–6 km"), (6, 10, "6–10 km"), (10, 20, "10–20 km"), (20, 10_000, "20+ km")]


@dataclass(frozen=True)
class Filters:
    school_year: int
    region_id: int | None = None
    municipality: str = ""
    offer_id: int | None = None
    world: World | None = None
    venue_id: int | None = None
    school_id: int | None = None  # one school (its history page)


@dataclass
class SchoolRow:
    school: School
    classes: int = 0
    pupils: int = 0
    visits: int = 0
    enrolled: int | None = None
    enrolled_estimated: bool = False
    worlds: list[str] = field(default_factory=list)
    distance_km: float | None = None
    reached_groep: dict[int, float] = field(default_factory=dict)
    enrolled_groep: dict[int, int] = field(default_factory=dict)
    booked_not_visited: int = 0  # confirmed bookings, not (yet) attended
    region_id: int | None = None  # the school's region in the school year asked for

    def __post_init__(self):
        if self.region_id is None and self.school is not None:
            self.region_id = self.school.region_id

    @property
    def reached(self) -> bool:
        """Reached as the fairness rules mean it (app.booking.reached): attended, or confirmed."""
        return bool(self.classes or self.booked_not_visited)

    @property
    def share(self) -> float | None:
        return None if not self.enrolled else min(1.0, self.pupils / self.enrolled)


def _window(year: int):
    start, end = school_year_bounds(year)
    return local_to_utc(start, time(0)), local_to_utc(end + timedelta(days=1), time(0))


def _booking_filter(f: Filters):
    start, end = _window(f.school_year)
    conds = [Session.starts_at >= start, Session.starts_at < end]
    if f.region_id is not None:
        conds.append(Offer.region_id == f.region_id)
    if f.offer_id:
        conds.append(Offer.id == f.offer_id)
    if f.world:
        conds.append(Offer.world == f.world)
    if f.venue_id:
        conds.append((Session.venue_id == f.venue_id) | (Offer.venue_id == f.venue_id))
    if f.municipality:
        conds.append(School.municipality_code == f.municipality)
    if f.school_id is not None:
        conds.append(Booking.school_id == f.school_id)
    return conds


def _bookings(f: Filters):
    return (
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .join(Offer, Session.offer_id == Offer.id)
        .join(School, Booking.school_id == School.id)
        .where(*_booking_filter(f))
    )


def schools_in_scope(f: Filters) -> list[tuple[School, int]]:
    """The schools of the region *in that school year* (their dated membership), with that region."""
    region = region_in_year(f.school_year).label("year_region_id")
    stmt = select(School, region).where(School.active.is_(True), School.kind != SchoolKind.VSO)
    if f.region_id is not None:
        # the index on schools.region_id finds the candidates (now in the region, or ever was);
        # the dated membership decides
        ever = select(SchoolRegion.school_id).where(SchoolRegion.region_id == f.region_id)
        stmt = stmt.where(or_(School.region_id == f.region_id, School.id.in_(ever)), region == f.region_id)
    else:
        stmt = stmt.where(region.is_not(None))
    if f.municipality:
        stmt = stmt.where(School.municipality_code == f.municipality)
    if f.school_id is not None:
        stmt = stmt.where(School.id == f.school_id)
    return [(s, rid) for s, rid in db.session.execute(stmt.order_by(School.name, School.id)).all()]


def class_reach(f: Filters) -> list[tuple[int, int, int, int, int]]:
    """(school_id, groep_min, groep_max, pupils, visits) per class reached."""
    cls = (
        select(
            Booking.school_id,
            Booking.groep_min,
            Booking.groep_max,
            func.max(Booking.attended_pupils).label("pupils"),
            func.count(Booking.id).label("visits"),
        )
        .join(Session, Booking.session_id == Session.id)
        .join(Offer, Session.offer_id == Offer.id)
        .join(School, Booking.school_id == School.id)
        .where(Booking.status == BookingStatus.ATTENDED, *_booking_filter(f))
        .group_by(Booking.school_id, Booking.groep_min, Booking.groep_max)
    )
    return [tuple(r) for r in db.session.execute(cls).all()]


def reach_by_school(region_id: int, school_year: int):
    """Per school id: classes, pupils and visits reached (used by the labs area and tests)."""
    out: dict[int, SchoolRow] = {}
    for sid, _lo, _hi, pupils, visits in class_reach(Filters(school_year, region_id)):
        row = out.setdefault(sid, SchoolRow(db.session.get(School, sid)))
        row.classes += 1
        row.pupils += int(pupils or 0)
        row.visits += int(visits)
    return out


def school_rows(f: Filters) -> list[SchoolRow]:
    schools = schools_in_scope(f)
    rows = {s.id: SchoolRow(s, region_id=rid) for s, rid in schools}
    for sid, lo, hi, pupils, visits in class_reach(f):
        row = rows.get(sid)
        if row is None:
            continue
        row.classes += 1
        row.pupils += int(pupils or 0)
        row.visits += int(visits)
        per = (pupils or 0) / (hi - lo + 1)
        for g in range(lo, hi + 1):
            row.reached_groep[g] = row.reached_groep.get(g, 0) + per
    from app.booking.reached import REACHED

    booked = db.session.execute(
        select(Booking.school_id, func.count(Booking.id))
        .join(Session, Booking.session_id == Session.id)
        .join(Offer, Session.offer_id == Offer.id)
        .join(School, Booking.school_id == School.id)
        .where(Booking.status.in_([s for s in REACHED if s != BookingStatus.ATTENDED]), *_booking_filter(f))
        .group_by(Booking.school_id)
    ).all()
    for sid, n in booked:
        if sid in rows:
            rows[sid].booked_not_visited = int(n)
    enrol = enrolment_by_groep(list(rows), f.school_year)
    missing = [sid for sid in rows if sid not in enrol]
    if missing:  # DUO publishes after 1 October: use the latest year there is
        enrol.update({k: v for k, v in enrolment_by_groep(missing, f.school_year - 1).items()})
    for sid, groepen in enrol.items():
        row = rows[sid]
        row.enrolled = sum(g.pupils for g in groepen)
        row.enrolled_estimated = any(g.estimated for g in groepen)
        row.enrolled_groep = {g.groep: g.pupils for g in groepen}
    worlds = db.session.execute(
        select(Booking.school_id, Offer.world)
        .distinct()
        .join(Session, Booking.session_id == Session.id)
        .join(Offer, Session.offer_id == Offer.id)
        .join(School, Booking.school_id == School.id)
        .where(Booking.status == BookingStatus.ATTENDED, *_booking_filter(f))
    ).all()
    for sid, world in worlds:
        if sid in rows:
            rows[sid].worlds.append(world.value)
    # distance to the nearest venue of the school's own region, as transport and the catalogue
    # measure it: a known road distance, else great-circle × the region's road factor
    venues: dict[int, list[tuple[int, float, float]]] = {}
    factors: dict[int, float] = {}
    for region_id, factor, vid, la, lo in db.session.execute(
        select(Venue.region_id, Region.road_factor, Venue.id, Venue.latitude, Venue.longitude)
        .join(Region, Venue.region_id == Region.id)
        .where(*([Venue.region_id == f.region_id] if f.region_id is not None else []), Venue.active.is_(True))
    ):
        venues.setdefault(region_id, []).append((vid, la, lo))
        factors[region_id] = factor
    from app.transport.roads import known_roads

    known = known_roads([vid for vs in venues.values() for vid, _la, _lo in vs])
    for row in rows.values():
        s = row.school
        dists = [
            road_km(s.latitude, s.longitude, la, lo, factors[row.region_id], known.get((s.id, vid), (None,))[0])
            for vid, la, lo in venues.get(row.region_id, [])
        ]
        dists = [d for d in dists if d is not None]
        row.distance_km = min(dists) if dists else None
        row.worlds.sort()
    return list(rows.values())


@dataclass
class Summary:
    schools: int
    schools_reached: int  # attended ("bereikt (geweest)")
    schools_booked_not_visited: int  # a confirmed visit, none attended yet ("geboekt, nog niet geweest")
    sessions_held: int
    classes_served: int
    pupils_served: int
    bookings_attended: int
    bookings_no_show: int
    bookings_cancelled: int
    girls: int
    boys: int
    groepen: list[dict]
    distance_bands: list[dict]
    series: dict
    transport: dict
    overrides: int

    @property
    def share_schools(self) -> float:
        return self.schools_reached / self.schools if self.schools else 0.0

    @property
    def schools_not_reached(self) -> int:
        """Not reached in app.booking.reached's meaning: the recruitment list ("niet bereikt")."""
        return self.schools - self.schools_reached - self.schools_booked_not_visited


def summary(f: Filters, rows: list[SchoolRow] | None = None) -> Summary:
    rows = rows if rows is not None else school_rows(f)
    base = _bookings(f).subquery()
    counts = {
        getattr(k, "value", k): n
        for k, n in db.session.execute(select(base.c.status, func.count()).group_by(base.c.status)).all()
    }
    # girls and boys as the classes gave them, each class once (like its pupils): the most of its visits
    per_class = (
        select(func.max(base.c.girls).label("girls"), func.max(base.c.boys).label("boys"))
        .where(base.c.status == BookingStatus.ATTENDED.value)
        .group_by(base.c.school_id, base.c.groep_min, base.c.groep_max)
        .subquery()
    )
    gender = db.session.execute(
        select(func.coalesce(func.sum(per_class.c.girls), 0), func.coalesce(func.sum(per_class.c.boys), 0))
    ).one()
    held = (
        db.session.scalar(
            select(func.count(func.distinct(base.c.session_id))).where(base.c.status == BookingStatus.ATTENDED.value)
        )
        or 0
    )
    overrides = db.session.scalar(select(func.count()).select_from(base).where(base.c.override_reason != "")) or 0
    groepen = []
    for g in range(1, 9):
        reached = sum(r.reached_groep.get(g, 0) for r in rows)
        enrolled = sum(r.enrolled_groep.get(g, 0) for r in rows)
        groepen.append(
            {
                "groep": g,
                "pupils_reached": round(reached),
                "pupils_enrolled": enrolled,
                "share": (reached / enrolled) if enrolled else None,
            }
        )
    bands = []
    for lo, hi, label in DISTANCE_BANDS:
        band = [r for r in rows if r.distance_km is not None and lo <= r.distance_km < hi]
        bands.append(
            {
                "band": label,
                "schools": len(band),
                "reached": sum(1 for r in band if r.classes),
                "share": (sum(1 for r in band if r.classes) / len(band)) if band else None,
            }
        )
    return Summary(
        schools=len(rows),
        schools_reached=sum(1 for r in rows if r.classes),
        schools_booked_not_visited=sum(1 for r in rows if r.reached and not r.classes),
        sessions_held=held,
        classes_served=sum(r.classes for r in rows),
        pupils_served=sum(r.pupils for r in rows),
        bookings_attended=counts.get("attended", 0),
        bookings_no_show=counts.get("no_show", 0),
        bookings_cancelled=counts.get("cancelled", 0),
        girls=int(gender[0]),
        boys=int(gender[1]),
        groepen=groepen,
        distance_bands=bands,
        series=series_completion(f),
        transport=transport(f),
        overrides=overrides,
    )


def series_completion(f: Filters) -> dict:
    """Series bookings by how far the class got: part 1, parts 1+2, all three."""
    attended = func.sum(func.cast(Booking.status == BookingStatus.ATTENDED, db.Integer))
    per_series = (
        select(
            SeriesBooking.id,
            func.max(
                func.cast(and_(Booking.part_position == 1, Booking.status == BookingStatus.ATTENDED), db.Integer)
            ).label("p1"),
            func.max(
                func.cast(and_(Booking.part_position == 2, Booking.status == BookingStatus.ATTENDED), db.Integer)
            ).label("p2"),
            func.max(
                func.cast(and_(Booking.part_position == 3, Booking.status == BookingStatus.ATTENDED), db.Integer)
            ).label("p3"),
            attended.label("n"),
        )
        .join(Booking, Booking.series_id == SeriesBooking.id)
        .join(Session, Booking.session_id == Session.id)
        .join(Offer, Session.offer_id == Offer.id)
        .join(School, Booking.school_id == School.id)
        .where(*_booking_filter(f))
        .group_by(SeriesBooking.id)
        .subquery()
    )
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(per_series.c.p1), 0),
            func.coalesce(func.sum(func.cast(and_(per_series.c.p1 == 1, per_series.c.p2 == 1), db.Integer)), 0),
            func.coalesce(
                func.sum(func.cast(and_(per_series.c.p1 == 1, per_series.c.p2 == 1, per_series.c.p3 == 1), db.Integer)),
                0,
            ),
        )
    ).one()
    return {"series": int(row[0]), "part1": int(row[1]), "parts12": int(row[2]), "all3": int(row[3])}


def transport(f: Filters) -> dict:
    """Classes that went (or go) by bus in a bus plan, the buses and their kilometres.

    A class counts once however many buses it needed; cancelled and no-show bookings left on
    an old plan do not count. ``classes_bussed_done`` are those of sessions already held
    (attended), ``classes_bussed_planned`` those still to come."""
    from app.booking.models import HOLDS_PLACE

    stops = (
        select(BusStop.bus_id, BusStop.booking_id, Booking.status, Session.starts_at)
        .join(Booking, BusStop.booking_id == Booking.id)
        .join(Session, Booking.session_id == Session.id)
        .join(Offer, Session.offer_id == Offer.id)
        .join(School, Booking.school_id == School.id)
        .where(Booking.status.in_(HOLDS_PLACE), *_booking_filter(f))
        .subquery()
    )
    classes, done = db.session.execute(
        select(
            func.count(func.distinct(stops.c.booking_id)),
            func.count(func.distinct(case((stops.c.status == BookingStatus.ATTENDED.value, stops.c.booking_id)))),
        )
    ).one()
    bus_ids = select(func.distinct(stops.c.bus_id))
    buses, km = db.session.execute(
        select(func.count(Bus.id), func.coalesce(func.sum(Bus.km), 0.0)).where(Bus.id.in_(bus_ids))
    ).one()
    return {
        "classes_bussed": int(classes or 0),
        "classes_bussed_done": int(done or 0),
        "classes_bussed_planned": int(classes or 0) - int(done or 0),
        "buses": int(buses),
        "km": float(km),
    }


def trend(f: Filters, years: int = 5) -> list[dict]:
    """Per school year: schools, classes and pupils reached. A year without any booking in
    scope has ``no_data`` (a gap in the chart, not a 0); the running year is ``running``
    (its figures are not final)."""
    from app.db import utcnow
    from app.timeutil import school_year_of

    now_year = school_year_of(utcnow())
    out = []
    for y in range(f.school_year - years + 1, f.school_year + 1):
        fy = replace(f, school_year=y)
        classes = class_reach(fy)
        any_booking = (
            bool(classes) or db.session.scalar(select(func.count()).select_from(_bookings(fy).limit(1).subquery())) > 0
        )
        out.append(
            {
                "school_year": y,
                "schools_reached": len({c[0] for c in classes}),
                "classes": len(classes),
                "pupils": sum(int(c[3] or 0) for c in classes),
                "no_data": not any_booking,
                "running": y == now_year,
            }
        )
    return out


# the groepen a headline figure can be asked for (the seeds' evaluations use groep 3–8)
HEADLINE_GROEPEN = {"3-8": (3, 8), "5-8": (5, 8), "6-8": (6, 8)}
DEFAULT_GROEPEN = "3-8"


def headline(rows: list[SchoolRow], groepen: str = DEFAULT_GROEPEN) -> dict:
    """The two headline figures of a school year:

    * share of the region's schools reached: schools with an attended visit / schools in scope;
    * within those reached schools, the share of the pupils of the chosen groepen reached:
      pupils of those groepen reached (a combination class spread evenly over its groepen) /
      pupils enrolled in those groepen. Reached schools without enrolment data are left out of
      both numbers (and counted in ``schools_without_enrolment``).
    """
    lo, hi = HEADLINE_GROEPEN[groepen]
    reached = [r for r in rows if r.classes]
    with_data = [r for r in reached if r.enrolled_groep]
    pupils = sum(v for r in with_data for g, v in r.reached_groep.items() if lo <= g <= hi)
    enrolled = sum(v for r in with_data for g, v in r.enrolled_groep.items() if lo <= g <= hi)
    return {
        "groepen": groepen,
        "groep_min": lo,
        "groep_max": hi,
        "schools": len(rows),
        "schools_reached": len(reached),
        "share_schools": (len(reached) / len(rows)) if rows else None,
        "pupils_reached": round(pupils),
        "pupils_enrolled": enrolled,
        "share_pupils": min(1.0, pupils / enrolled) if enrolled else None,
        "schools_without_enrolment": len(reached) - len(with_data),
    }


GROUPINGS = ("school", "groep", "municipality", "world")


def grouped(rows: list[SchoolRow], sm: Summary, group_by: str) -> list[dict]:
    """The reach of a school year grouped by school, groep, municipality or world (the API's groups)."""
    if group_by == "school":
        return [
            {
                "key": r.school.location_code,
                "name": r.school.name,
                "classes": r.classes,
                "pupils": r.pupils,
                "enrolled": r.enrolled,
                "estimated": r.enrolled_estimated,
                "share": r.share,
                "worlds": r.worlds,
                "distance_km": r.distance_km,
            }
            for r in rows
        ]
    if group_by == "groep":
        return [
            {
                "key": str(g["groep"]),
                "pupils": g["pupils_reached"],
                "enrolled": g["pupils_enrolled"],
                "share": g["share"],
            }
            for g in sm.groepen
        ]
    if group_by == "municipality":
        acc: dict = {}
        for r in rows:
            a = acc.setdefault(
                r.school.municipality_code,
                {
                    "key": r.school.municipality_code,
                    "name": r.school.municipality_name,
                    "schools": 0,
                    "schools_reached": 0,
                    "pupils": 0,
                },
            )
            a["schools"] += 1
            a["schools_reached"] += bool(r.classes)
            a["pupils"] += r.pupils
        return sorted(acc.values(), key=lambda a: a["name"])
    counts: dict[str, int] = {}
    for r in rows:
        for w in r.worlds:
            counts[w] = counts.get(w, 0) + 1
    return [{"key": w.value, "schools": counts.get(w.value, 0)} for w in World]
