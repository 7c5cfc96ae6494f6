"""Small factories for tests: each makes a valid object with sensible defaults.

They add to the session and flush; the test commits when it needs to.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from app.auth.models import HolidayRegion, Region, Role, User
from app.auth.services import create_user
from app.extensions import db
from app.labs.models import Offer, OfferKind, OfferPart, PartLocation, Session, Venue, VenueKind, World
from app.schools.models import GroepEnrolment, School, SchoolKind
from app.timeutil import school_year_of

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def region(code: str | None = None, **kw) -> Region:
    n = _n()
    r = Region(
        code=code or f"regio-{n}",
        name=kw.pop("name", f"Regio {n}"),
        holiday_region=kw.pop("holiday_region", HolidayRegion.MIDDEN),
        **kw,
    )
    db.session.add(r)
    db.session.flush()
    return r


def school(region: Region | None, **kw) -> School:
    n = _n()
    brin = kw.pop("brin", f"{n % 100:02d}X{chr(65 + n % 26)}")
    s = School(
        brin=brin,
        location_code=kw.pop("location_code", f"{brin}{n % 100:02d}")[:6],
        name=kw.pop("name", f"Basisschool {n}"),
        region=region,
        kind=kw.pop("kind", SchoolKind.BO),
        street=kw.pop("street", "Schoolstraat"),
        house_number=kw.pop("house_number", str(n)),
        postcode=kw.pop("postcode", "3511 AA"),
        city=kw.pop("city", "Utrecht"),
        latitude=kw.pop("latitude", 52.09),
        longitude=kw.pop("longitude", 5.12),
        **kw,
    )
    db.session.add(s)
    db.session.flush()
    return s


def enrol(school: School, school_year: int, per_groep: int = 25, estimated: bool = False) -> None:
    for g in range(1, 9):
        db.session.add(
            GroepEnrolment(school_id=school.id, school_year=school_year, groep=g, pupils=per_groep, estimated=estimated)
        )
    db.session.flush()


def venue(region: Region, **kw) -> Venue:
    n = _n()
    v = Venue(
        region=region,
        kind=kw.pop("kind", VenueKind.TECHLAB),
        name=kw.pop("name", f"Techlab {n}"),
        street=kw.pop("street", "Labweg"),
        house_number=kw.pop("house_number", "1"),
        postcode=kw.pop("postcode", "3512 AB"),
        city=kw.pop("city", "Utrecht"),
        latitude=kw.pop("latitude", 52.10),
        longitude=kw.pop("longitude", 5.13),
        **kw,
    )
    db.session.add(v)
    db.session.flush()
    return v


def offer(region: Region, venue: Venue | None = None, **kw) -> Offer:
    n = _n()
    o = Offer(
        region=region,
        venue=venue,
        school_year=kw.pop("school_year", school_year_of(datetime.now(timezone.utc))),
        kind=kw.pop("kind", OfferKind.WORKSHOP),
        title=kw.pop("title", f"Robots bouwen {n}"),
        world=kw.pop("world", World.HITECH_SCIENCE),
        groep_min=kw.pop("groep_min", 5),
        groep_max=kw.pop("groep_max", 8),
        capacity_pupils=kw.pop("capacity_pupils", 30),
        capacity_classes=kw.pop("capacity_classes", 1),
        published=kw.pop("published", True),
        **kw,
    )
    db.session.add(o)
    db.session.flush()
    return o


def series_offer(region: Region, techlab: Venue, hotspot: Venue, gaps=((0, 0), (3, 30), (3, 30)), **kw) -> Offer:
    """A three-part masterclass: at school, at the techlab, at a hotspot."""
    o = offer(region, techlab, kind=OfferKind.MASTERCLASS, **kw)
    specs = [
        ("Voorbereidende les", PartLocation.AT_SCHOOL, None),
        ("Masterclass", PartLocation.VENUE, techlab),
        ("Praktijkbezoek", PartLocation.VENUE, hotspot),
    ]
    for pos, ((title, loc, v), (lo, hi)) in enumerate(zip(specs, gaps, strict=False), start=1):
        o.parts.append(
            OfferPart(
                position=pos, title=title, location=loc, venue=v, min_days_after_previous=lo, max_days_after_previous=hi
            )
        )
    db.session.flush()
    return o


def session(offer: Offer, starts_at: datetime | None = None, *, part: OfferPart | None = None, **kw) -> Session:
    starts_at = starts_at or (
        datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
    )
    venue = kw.pop("venue", part.venue if part is not None else offer.venue)
    location = kw.pop("location", part.location if part is not None else PartLocation.VENUE)
    s = Session(
        offer=offer,
        part=part,
        venue=venue if location == PartLocation.VENUE else None,
        location=location,
        starts_at=starts_at,
        ends_at=kw.pop("ends_at", starts_at + timedelta(minutes=offer.duration_minutes)),
        capacity_pupils=kw.pop("capacity_pupils", offer.capacity_pupils),
        capacity_classes=kw.pop("capacity_classes", offer.capacity_classes),
        **kw,
    )
    db.session.add(s)
    db.session.flush()
    return s


def user(
    role: Role | str,
    *,
    region: Region | None = None,
    school: School | None = None,
    venues=(),
    email: str | None = None,
    password: str = PASSWORD,
) -> User:
    role = Role(role)
    return create_user(
        email=email or f"{role.value}{_n()}@example.org",
        role=role,
        password=password,
        region=region,
        school=school,
        venues=venues,
    )


def teacher(school: School, **kw) -> User:
    return user(Role.TEACHER, region=school.region, school=school, **kw)


def api_token(user: User) -> str:
    from app.auth.tokens import create_api_token

    _, secret = create_api_token(user)
    return secret


def auth_header(user: User) -> dict:
    return {"Authorization": f"Bearer {api_token(user)}"}
