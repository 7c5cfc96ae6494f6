"""Searching the catalogue: offers of a region with filters, distance and availability."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import Role
from app.catalogue.availability import availability
from app.extensions import db
from app.labs.models import Offer, OfferKind, PartLocation, Session, SessionStatus, Venue, World
from app.timeutil import local_to_utc
from app.transport.distance import road_km
from app.transport.eligibility import needs_bus


@dataclass(frozen=True)
class OfferFilters:
    groep: int | None = None
    world: World | None = None
    venue_id: int | None = None
    kind: OfferKind | None = None
    date_from: date | None = None
    date_to: date | None = None
    only_available: bool = False
    max_km: float | None = None
    bus_only: bool = False
    q: str = ""
    sort: str = ""  # "distance", "date", "title"


@dataclass
class OfferResult:
    offer: Offer
    distance_km: float | None
    bus: bool
    next_sessions: list = field(default_factory=list)  # (session, SessionAvailability)
    places_left: bool = False


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def school_distances(school, venue_ids: set[int], road_factor: float) -> dict[int, float | None]:
    """Road km from a school to each venue: a known road distance, else the estimate."""
    if school is None or not venue_ids:
        return {}
    from app.transport.roads import known_roads

    known = known_roads(venue_ids, [school.id])
    venues = db.session.execute(select(Venue.id, Venue.latitude, Venue.longitude).where(Venue.id.in_(venue_ids))).all()
    return {
        vid: road_km(school.latitude, school.longitude, lat, lon, road_factor, known.get((school.id, vid), (None,))[0])
        for vid, lat, lon in venues
    }


def search_offers(
    user,
    region_id: int | None,
    filters: OfferFilters,
    now: datetime,
    page: int = 1,
    per_page: int = 20,
    *,
    with_sessions: bool = True,
) -> Page:
    """Published offers of the region that match the filters, paginated.

    A region has at most a few hundred offers, so the SQL query selects by region and
    the plain columns, and distance, availability and bus are filtered in Python
    before paginating — the page count stays right. ``with_sessions=False`` (the API's
    list, which shows the offers only) skips the upcoming sessions and their availability
    unless a filter asks about them.
    """
    stmt = select(Offer).where(Offer.published.is_(True)).options(selectinload(Offer.parts), selectinload(Offer.venue))
    if region_id is not None:
        stmt = stmt.where(Offer.region_id == region_id)
    if filters.groep:
        stmt = stmt.where(Offer.groep_min <= filters.groep, Offer.groep_max >= filters.groep)
    if filters.world:
        stmt = stmt.where(Offer.world == filters.world)
    if filters.kind:
        stmt = stmt.where(Offer.kind == filters.kind)
    if filters.venue_id:
        stmt = stmt.where(Offer.venue_id == filters.venue_id)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        stmt = stmt.where(db.func.lower(Offer.title).like(like) | db.func.lower(Offer.description).like(like))
    offers = list(db.session.scalars(stmt.order_by(Offer.title, Offer.id)))

    school = user.school if user is not None and getattr(user, "role", None) == Role.TEACHER else None
    region = school.region if school is not None else None
    venue_ids = {o.venue_id for o in offers if o.venue_id}
    distances = school_distances(school, venue_ids, region.road_factor if region else 1.3)
    threshold = region.bus_threshold_km if region else None

    sessions_by_offer: dict[int, list[Session]] = {}
    if offers and (with_sessions or filters.date_from or filters.date_to or filters.only_available):
        s_stmt = select(Session).where(
            Session.offer_id.in_([o.id for o in offers]),
            Session.starts_at > now,
            Session.status == SessionStatus.SCHEDULED,
        )
        if filters.date_from:
            s_stmt = s_stmt.where(Session.starts_at >= local_to_utc(filters.date_from, time(0, 0)))
        if filters.date_to:
            s_stmt = s_stmt.where(Session.starts_at < local_to_utc(filters.date_to, time(23, 59, 59)))
        for s in db.session.scalars(s_stmt.order_by(Session.starts_at)):
            sessions_by_offer.setdefault(s.offer_id, []).append(s)

    results = []
    for offer in offers:
        sessions = sessions_by_offer.get(offer.id, [])
        if (filters.date_from or filters.date_to) and not sessions:
            continue
        avail = [(s, availability(s, now)) for s in sessions]
        first_parts = [(s, a) for s, a in avail if not offer.parts or s.part_id == offer.parts[0].id]
        places = any(a.bookable for _, a in first_parts)
        if filters.only_available and not places:
            continue
        dist = distances.get(offer.venue_id) if offer.venue_id and offer.kind.value != "mobile_lab" else None
        if offer.kind == OfferKind.MOBILE_LAB or offer.kind == OfferKind.GUEST_LESSON:
            dist = 0.0 if school is not None else None
        bus = needs_bus(
            dist,
            threshold,
            bus_provided=offer.bus_provided,
            at_school=offer.kind in (OfferKind.MOBILE_LAB, OfferKind.GUEST_LESSON),
        )
        if filters.max_km is not None and (dist is None or dist > filters.max_km):
            continue
        if filters.bus_only and not bus:
            continue
        upcoming = [(s, a) for s, a in first_parts if a.bookable][:3] or first_parts[:3]
        results.append(OfferResult(offer, dist, bus, upcoming, places))

    sort = filters.sort or ("distance" if school is not None else "title")
    if sort == "distance":
        results.sort(key=lambda r: (r.distance_km is None, r.distance_km or 0, r.offer.title))
    elif sort == "date":
        results.sort(key=lambda r: (not r.next_sessions, r.next_sessions[0][0].starts_at if r.next_sessions else now))
    total = len(results)
    start = (page - 1) * per_page
    return Page(results[start : start + per_page], page, per_page, total)


def offer_sessions(offer: Offer, now: datetime, limit: int = 200):
    """Upcoming sessions of an offer with their availability, grouped per part."""
    sessions = db.session.scalars(
        select(Session)
        .where(Session.offer_id == offer.id, Session.starts_at > now)
        .order_by(Session.starts_at)
        .limit(limit)
    ).all()
    grouped: dict = {}
    for s in sessions:
        grouped.setdefault(s.part_id, []).append((s, availability(s, now)))
    return grouped


def session_place(session) -> str:
    return "at_school" if session.location == PartLocation.AT_SCHOOL else "venue"
