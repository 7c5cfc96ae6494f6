"""API: offers, sessions, venues and schools of the caller's region."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

from flask import abort
from pydantic import BeforeValidator, Field, WithJsonSchema
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import api_user, bp, token_required
from app.api.schemas import (
    IsoDateTime,
    Number,
    Out,
    PageQuery,
    QueryId,
    one_of,
    operation,
    page_of,
    paginate,
    parse_query,
    render,
    render_page,
)
from app.auth import permissions
from app.auth.models import Region
from app.catalogue.availability import Availability, availability
from app.catalogue.services import OfferFilters, search_offers
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.inputs import MAX_DATE, MIN_DATE, in_date_range, parse_date
from app.labs import models as labs
from app.labs.models import OfferKind, PartLocation, VenueKind, World
from app.schools import models as schools
from app.schools.enrolment import enrolment_by_groep
from app.schools.models import SchoolKind
from app.timeutil import LOCAL_TZ, school_year_of

# ------------------------------------------------------------------ shapes


class VenueRef(Out):
    id: int
    name: str

    @classmethod
    def of(cls, v) -> VenueRef | None:
        return cls(id=v.id, name=v.name) if v is not None else None


class Address(Out):
    street: str
    house_number: str
    postcode: str
    city: str

    @classmethod
    def of(cls, o) -> Address:
        return cls(street=o.street, house_number=o.house_number, postcode=o.postcode, city=o.city)


class Counts(Out):
    pupils: int
    classes: int


class Venue(Out):
    id: int
    name: str
    kind: one_of(k.value for k in VenueKind)
    organisation: str
    address: Address
    latitude: Number | None
    longitude: Number | None
    accessibility: str
    opening_days: list[int]
    region_id: int

    @classmethod
    def of(cls, v) -> Venue:
        return cls(
            id=v.id,
            name=v.name,
            kind=v.kind.value,
            organisation=v.organisation,
            address=Address.of(v),
            latitude=v.latitude,
            longitude=v.longitude,
            accessibility=v.accessibility,
            opening_days=[int(d) for d in v.opening_days],
            region_id=v.region_id,
        )


class OfferPart(Out):
    id: int
    position: int
    title: str
    location: one_of(p.value for p in PartLocation)
    venue: VenueRef | None
    min_days_after_previous: int
    max_days_after_previous: int

    @classmethod
    def of(cls, p) -> OfferPart:
        return cls(
            id=p.id,
            position=p.position,
            title=p.title,
            location=p.location.value,
            venue=VenueRef.of(p.venue),
            min_days_after_previous=p.min_days_after_previous,
            max_days_after_previous=p.max_days_after_previous,
        )


class Offer(Out):
    id: int
    title: str
    description: str
    kind: one_of(k.value for k in OfferKind)
    world: one_of(w.value for w in World)
    groep_min: int
    groep_max: int
    school_year: int
    duration_minutes: int
    capacity: Counts
    adults_per_class: int
    venue: VenueRef | None
    bus_provided: bool
    booking_opens_at: IsoDateTime | None
    booking_closes_at: IsoDateTime | None
    cancel_deadline_days: int
    preparation: str
    booking_horizon_weeks: int | None = Field(
        description="a class books at most this many weeks ahead (null: no limit)"
    )
    min_notice_days: int = Field(description="a class books at least this many days before")
    change_deadline_days: int = Field(
        description="pupils, adults, contact, remarks and class change until this many days before"
    )
    approval_required: bool = Field(description="a booking waits as requested until the coordinator approves it")
    is_series: bool
    parts: list[OfferPart]
    region_id: int

    @classmethod
    def of(cls, o) -> Offer:
        return cls(
            id=o.id,
            title=o.title,
            description=o.description,
            kind=o.kind.value,
            world=o.world.value,
            groep_min=o.groep_min,
            groep_max=o.groep_max,
            school_year=o.school_year,
            duration_minutes=o.duration_minutes,
            capacity=Counts(pupils=o.capacity_pupils, classes=o.capacity_classes),
            adults_per_class=o.adults_per_class,
            venue=VenueRef.of(o.venue),
            bus_provided=o.bus_provided,
            booking_opens_at=o.booking_opens_at,
            booking_closes_at=o.booking_closes_at,
            cancel_deadline_days=o.cancel_deadline_days,
            preparation=o.preparation,
            booking_horizon_weeks=o.booking_horizon_weeks,
            min_notice_days=o.min_notice_days,
            change_deadline_days=o.change_deadline_days,
            approval_required=o.approval_required,
            is_series=len(o.parts) > 1,
            parts=[OfferPart.of(p) for p in o.parts],
            region_id=o.region_id,
        )


class Session(Out):
    id: int
    offer_id: int
    part: int | None
    location: one_of(p.value for p in PartLocation)
    venue: VenueRef | None
    starts_at: IsoDateTime
    ends_at: IsoDateTime
    capacity: Counts
    booked: Counts
    available: Counts
    status: one_of(s.value for s in Availability)

    @classmethod
    def of(cls, s, now=None) -> Session:
        a = availability(s, now or utcnow())
        return cls(
            id=s.id,
            offer_id=s.offer_id,
            part=s.part.position if s.part is not None else None,
            location=s.location.value,
            venue=VenueRef.of(s.venue),
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            capacity=Counts(pupils=s.capacity_pupils, classes=s.capacity_classes),
            booked=Counts(pupils=s.booked_pupils, classes=s.booked_classes),
            available=Counts(pupils=a.left.pupils, classes=a.left.classes),
            status=a.status.value,
        )


class Municipality(Out):
    code: str
    name: str


class GroepEnrolment(Out):
    groep: int
    pupils: int
    estimated: bool


class Enrolment(Out):
    school_year: int
    groepen: list[GroepEnrolment]


class School(Out):
    id: int
    location_code: str
    brin: str
    name: str
    kind: one_of(k.value for k in SchoolKind)
    address: Address
    municipality: Municipality
    latitude: Number | None
    longitude: Number | None
    region_id: int | None
    enrolment: Enrolment

    @classmethod
    def of(cls, s, enrolment, school_year: int) -> School:
        return cls(
            id=s.id,
            location_code=s.location_code,
            brin=s.brin,
            name=s.name,
            kind=s.kind.value,
            address=Address.of(s),
            municipality=Municipality(code=s.municipality_code, name=s.municipality_name),
            latitude=s.latitude,
            longitude=s.longitude,
            region_id=s.region_id,
            enrolment=Enrolment(
                school_year=school_year,
                groepen=[GroepEnrolment(groep=g.groep, pupils=g.pupils, estimated=g.estimated) for g in enrolment],
            ),
        )

    @classmethod
    def of_rows(cls, rows) -> list[School]:
        """With the enrolment per groep of this school year (DUO publishes after 1 October: before
        that, last year's)."""
        year = school_year_of(utcnow())
        enrol = enrolment_by_groep([s.id for s in rows], year)
        if not enrol and rows:
            year -= 1
            enrol = enrolment_by_groep([s.id for s in rows], year)
        return [cls.of(s, enrol.get(s.id, []), year) for s in rows]


# ------------------------------------------------------------------ query parameters


def _date_or_datetime(name: str, end_of_day: bool):
    def parse(raw):
        if raw is None or isinstance(raw, datetime):
            return raw
        try:
            if len(raw) == 10:
                return datetime.combine(parse_date(raw), time.max if end_of_day else time.min, tzinfo=LOCAL_TZ)
            value = datetime.fromisoformat(raw)
            if not in_date_range(value):
                raise ValueError(raw)
        except (TypeError, ValueError):
            raise DomainError(
                f"{name} must be an ISO date or date-time in the years {MIN_DATE.year}-{MAX_DATE.year}.",
                code="invalid_parameter",
                field=name,
            ) from None
        return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)

    return Annotated[
        datetime | None,
        BeforeValidator(parse),
        WithJsonSchema(
            {
                "type": "string",
                "anyOf": [{"format": "date"}, {"format": "date-time"}],
                "description": "ISO date or date-time",
            }
        ),
    ]


class RegionQuery(PageQuery):
    region: str | None = Field(None, description="Region code (administrators only).")


class OfferQuery(RegionQuery):
    groep: Annotated[int, Field(ge=1, le=8)] | None = None
    world: World | None = None
    kind: OfferKind | None = None
    venue: QueryId | None = None


class SessionQuery(RegionQuery):
    offer: QueryId | None = None
    venue: QueryId | None = None
    from_: _date_or_datetime("from", end_of_day=False) = Field(None, alias="from")
    to: _date_or_datetime("to", end_of_day=True) = None


class SchoolQuery(RegionQuery):
    q: str = ""
    municipality: str = ""


def _region_id(q: RegionQuery) -> tuple[bool, int | None]:
    """(scoped, region id): the caller's region; an administrator may pass ?region=<code> (or sees all)."""
    user = api_user()
    if not permissions.is_admin(user):
        return True, user.region_id
    if not q.region:
        return False, None
    region_id = db.session.scalar(select(Region.id).where(Region.code == q.region))
    if region_id is None:
        raise DomainError(f"Unknown region {q.region!r}.", code="invalid_parameter", field="region")
    return True, region_id


def _region_filter(q: RegionQuery, column) -> list:
    scoped, region_id = _region_id(q)
    return [column == region_id] if scoped else []


def _visible(obj):
    if obj is None or not permissions.same_region(api_user(), obj):
        abort(404)
    return obj


# ------------------------------------------------------------------ handlers

LIST_PROBLEMS = (400, 401, 422)
ONE_PROBLEMS = (401, 404)


@bp.get("/offers")
@token_required
@operation("Published offers of your region", query=OfferQuery, response=page_of(Offer), problems=LIST_PROBLEMS)
def list_offers():
    q = parse_query(OfferQuery)
    scoped, region_id = _region_id(q)
    if scoped and region_id is None:  # a user without a region sees no offers
        return render_page(Offer, [], q, 0)
    filters = OfferFilters(groep=q.groep, world=q.world, kind=q.kind, venue_id=q.venue, sort="title")
    found = search_offers(api_user(), region_id, filters, utcnow(), q.page, q.per_page, with_sessions=False)
    return render_page(Offer, [Offer.of(r.offer) for r in found.items], q, found.total)


@bp.get("/offers/<int:offer_id>")
@token_required
@operation("One offer", response=Offer, problems=ONE_PROBLEMS)
def get_offer(offer_id):
    offer = _visible(db.session.get(labs.Offer, offer_id))
    if not offer.published and not permissions.can_manage_offer(api_user(), offer):
        abort(404)
    return render(Offer.of(offer))


@bp.get("/sessions")
@token_required
@operation(
    "Sessions with capacity, booked and available places",
    query=SessionQuery,
    response=page_of(Session),
    problems=LIST_PROBLEMS,
)
def list_sessions():
    q = parse_query(SessionQuery)
    stmt = (
        select(labs.Session)
        .join(labs.Offer, labs.Session.offer_id == labs.Offer.id)
        .where(labs.Offer.published.is_(True))
        .options(selectinload(labs.Session.offer), selectinload(labs.Session.venue), selectinload(labs.Session.part))
    )
    stmt = stmt.where(*_region_filter(q, labs.Offer.region_id), *_session_filters(q))
    now = utcnow()
    return paginate(
        stmt.order_by(labs.Session.starts_at, labs.Session.id),
        q,
        Session,
        lambda rows: [Session.of(s, now) for s in rows],
    )


def _session_filters(q: SessionQuery) -> list:
    wanted = [
        (q.offer, labs.Session.offer_id.__eq__),
        (q.venue, labs.Session.venue_id.__eq__),
        (q.from_, labs.Session.starts_at.__ge__),
        (q.to, labs.Session.starts_at.__le__),
    ]
    return [where(value) for value, where in wanted if value is not None]


@bp.get("/sessions/<int:session_id>")
@token_required
@operation("One session", response=Session, problems=ONE_PROBLEMS)
def get_session(session_id):
    return render(Session.of(_visible(db.session.get(labs.Session, session_id))))


@bp.get("/venues")
@token_required
@operation("Venues of your region", query=RegionQuery, response=page_of(Venue), problems=LIST_PROBLEMS)
def list_venues():
    q = parse_query(RegionQuery)
    stmt = (
        select(labs.Venue)
        .where(labs.Venue.active.is_(True), *_region_filter(q, labs.Venue.region_id))
        .order_by(labs.Venue.name, labs.Venue.id)
    )
    return paginate(stmt, q, Venue, lambda rows: [Venue.of(v) for v in rows])


@bp.get("/venues/<int:venue_id>")
@token_required
@operation("One venue", response=Venue, problems=ONE_PROBLEMS)
def get_venue(venue_id):
    return render(Venue.of(_visible(db.session.get(labs.Venue, venue_id))))


@bp.get("/schools")
@token_required
@operation(
    "Schools of your region, with enrolment per groep",
    query=SchoolQuery,
    response=page_of(School),
    problems=LIST_PROBLEMS,
)
def list_schools():
    q = parse_query(SchoolQuery)
    stmt = (
        select(schools.School)
        .where(*_region_filter(q, schools.School.region_id))
        .order_by(schools.School.name, schools.School.id)
    )
    if text := q.q.strip()[:100]:
        stmt = stmt.where(
            db.func.lower(schools.School.name).like(f"%{text.lower()}%")
            | (schools.School.location_code == text.upper())
        )
    if municipality := q.municipality.strip():
        stmt = stmt.where(schools.School.municipality_code == municipality.zfill(4)[:4])
    return paginate(stmt, q, School, School.of_rows)


@bp.get("/schools/<int:school_id>")
@token_required
@operation("One school", response=School, problems=ONE_PROBLEMS)
def get_school(school_id):
    return render(School.of_rows([_visible(db.session.get(schools.School, school_id))])[0])
