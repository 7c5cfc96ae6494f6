"""Road distances between schools and venues: the known ones (entered or imported by the
coordinator) and the estimate from coordinates where none is known."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth import permissions
from app.auth.models import Region, User
from app.extensions import db
from app.labs.models import Venue
from app.schools.models import School
from app.transport.distance import road_km
from app.transport.errors import PlanningNotAllowed, PlanNotFound, TransportError
from app.transport.models import RoadDistance


def known_roads(venue_ids, school_ids=None) -> dict[tuple[int, int], tuple[float, float | None]]:
    """The known road distances (km, minutes) per (school id, venue id) for these venues (and
    schools, when given): the one lookup behind every distance the platform shows or uses."""
    venue_ids = sorted(set(venue_ids))
    if not venue_ids or (school_ids is not None and not school_ids):
        return {}
    stmt = select(RoadDistance.school_id, RoadDistance.venue_id, RoadDistance.km, RoadDistance.minutes).where(
        RoadDistance.venue_id.in_(venue_ids)
    )
    if school_ids is not None:
        stmt = stmt.where(RoadDistance.school_id.in_(sorted(set(school_ids))))
    return {(sid, vid): (km, minutes) for sid, vid, km, minutes in db.session.execute(stmt)}


def road_distances(school_ids, venue: Venue, road_factor: float) -> dict[int, tuple[float | None, float | None]]:
    """(km, minutes) from each school to the venue: a known road distance, else the estimate."""
    ids = sorted(set(school_ids))
    if not ids or venue is None:
        return {}
    known = known_roads([venue.id], ids)
    out = {}
    for sid, lat, lon in db.session.execute(
        select(School.id, School.latitude, School.longitude).where(School.id.in_(ids))
    ):
        km, minutes = known.get((sid, venue.id), (None, None))
        out[sid] = (road_km(lat, lon, venue.latitude, venue.longitude, road_factor, km), minutes)
    return out


def set_road_distance(
    actor: User, school_id: int, venue_id: int, km: float, minutes: float | None = None, source: str = "manual"
) -> RoadDistance:
    venue = db.session.get(Venue, venue_id)
    school = db.session.get(School, school_id)
    if (
        venue is None
        or school is None
        or school.region_id != venue.region_id
        or not permissions.same_region(actor, venue)
    ):
        raise PlanNotFound(_("Onbekende school of locatie."))
    if not permissions.can_plan_transport(actor, venue.region):
        raise PlanningNotAllowed(_("U mag de afstanden niet wijzigen."))
    if km is None or not 0 <= km <= 500:
        raise TransportError(_("De afstand moet tussen 0 en 500 km liggen."), field="km")
    if minutes is not None and not 0 < minutes <= 600:
        raise TransportError(_("De rijtijd moet tussen 1 en 600 minuten liggen."), field="minutes")
    rd = db.session.scalar(
        select(RoadDistance).where(RoadDistance.school_id == school.id, RoadDistance.venue_id == venue.id)
    )
    if rd is None:
        rd = RoadDistance(school_id=school.id, venue_id=venue.id)
        db.session.add(rd)
    rd.km, rd.minutes, rd.source = round(float(km), 2), minutes, source[:50]
    db.session.flush()
    return rd


def import_road_distances(actor: User, region: Region, content: str) -> int:
    """A CSV with columns school (DUO location code), venue (name or id), km and optionally minutes."""
    if not permissions.can_plan_transport(actor, region):
        raise PlanningNotAllowed(_("U mag de afstanden niet wijzigen."))
    reader = csv.DictReader(
        io.StringIO(content.lstrip("\ufeff")), delimiter=";" if ";" in content.split("\n", 1)[0] else ","
    )
    fields = {f.strip().lower() for f in (reader.fieldnames or [])}
    if not {"school", "venue", "km"} <= fields:
        raise TransportError(_("De kolommen school, venue en km zijn nodig (minutes mag)."), field="file")
    schools = {s.location_code: s.id for s in db.session.scalars(select(School).where(School.region_id == region.id))}
    venues = {}
    for v in db.session.scalars(select(Venue).where(Venue.region_id == region.id)):
        venues[v.name.lower()] = v.id
        venues[str(v.id)] = v.id
    count = 0
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        sid, vid = schools.get(row["school"].upper()), venues.get(row["venue"].lower())
        if sid is None or vid is None:
            raise TransportError(_("Regel %(n)s: onbekende school of locatie.", n=n), field="file")
        try:
            km = float(row["km"].replace(",", "."))
            minutes = float(row["minutes"].replace(",", ".")) if row.get("minutes") else None
        except ValueError:
            raise TransportError(_("Regel %(n)s: km en minuten moeten getallen zijn.", n=n), field="file") from None
        try:
            set_road_distance(actor, sid, vid, km, minutes, source="csv")
        except TransportError as exc:
            raise TransportError(_("Regel %(n)s: %(msg)s", n=n, msg=exc.message), field="file") from None
        count += 1
    return count


def known_distances(region_id: int, limit: int = 500):
    """The known road distances of a region's venues: (distance, school, venue)."""
    return db.session.execute(
        select(RoadDistance, School, Venue)
        .join(School, RoadDistance.school_id == School.id)
        .join(Venue, RoadDistance.venue_id == Venue.id)
        .where(Venue.region_id == region_id)
        .order_by(School.name, Venue.name)
        .limit(limit)
    ).all()
