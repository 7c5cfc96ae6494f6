"""The demo region: the real primary schools of the Achterhoek (COROP area 14).

Deterministic: everything random comes from one ``random.Random(seed)``, and every
loop runs over sorted keys. 'Today' decides only which sessions lie in the past.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from app.auth.models import HolidayRegion, Region, Role, User
from app.auth.services import hash_password
from app.booking.models import Booking, BookingEvent, BookingStatus, SeriesBooking
from app.extensions import db
from app.labs.models import Offer, OfferKind, OfferPart, PartLocation, Session, Staff, Venue, VenueKind, World
from app.schools.enrolment import enrolment_by_groep
from app.schools.geo import coordinates_for_postcode
from app.schools.models import School, SchoolKind
from app.timeutil import local_to_utc, school_year_of
from app.transport.distance import road_km
from app.transport.models import BusType

ROOT = Path(__file__).resolve().parents[2]
DUO_FILES = [
    ROOT / "data/duo/02.-alle-schoolvestigingen-basisonderwijs.csv",
    ROOT / "data/duo/06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv",
]
REGION_CODE = "achterhoek"
COROP_CODES = ("14",)
DEFAULT_PASSWORD = "demo-techlab-2026"
DOMAIN = "demo.techlab.nl"

VENUES = [
    # key, kind, name, organisation, street, number, postcode, city, opening days
    (
        "doetinchem",
        VenueKind.TECHLAB,
        "Techlab Doetinchem",
        "Ludger College (vmbo)",
        "Kruisbergseweg",
        "8",
        "7001 BH",
        "Doetinchem",
        "12345",
    ),
    (
        "winterswijk",
        VenueKind.TECHLAB,
        "Techlab Winterswijk",
        "Gerrit Komrij College (vmbo)",
        "Jacob Damsingel",
        "3",
        "7101 AA",
        "Winterswijk",
        "1234",
    ),
    (
        "groenlo",
        VenueKind.TECHLAB,
        "Techlab Groenlo",
        "Marianum (vmbo)",
        "Slingeweg",
        "5",
        "7141 BJ",
        "Groenlo",
        "2345",
    ),
    (
        "ulft",
        VenueKind.TECHLAB,
        "Techlab Ulft",
        "Almende College Isala (vmbo)",
        "Debbeshoek",
        "2",
        "7071 BR",
        "Ulft",
        "1345",
    ),
    (
        "mobiel",
        VenueKind.MOBILE_LAB,
        "TechMobiel Achterhoek",
        "Stichting Techniek Achterhoek",
        "Keppelseweg",
        "11",
        "7001 CA",
        "Doetinchem",
        "12345",
    ),
    (
        "kassen",
        VenueKind.HOTSPOT,
        "Kwekerij De Groene Vallei",
        "De Groene Vallei kassenbouw",
        "Vredenseweg",
        "40",
        "7131 NN",
        "Lichtenvoorde",
        "12345",
    ),
    (
        "hoogspanning",
        VenueKind.HOTSPOT,
        "Bouwplaats hoogspanningsstation Zelhem",
        "Netbeheerder Oost",
        "Ruurloseweg",
        "90",
        "7021 HA",
        "Zelhem",
        "12345",
    ),
    (
        "metaal",
        VenueKind.COMPANY,
        "Achterhoek Metaal",
        "Achterhoek Metaal bv",
        "Industrieweg",
        "14",
        "7121 DL",
        "Aalten",
        "12345",
    ),
    (
        "water",
        VenueKind.HOTSPOT,
        "Rioolwaterzuivering Doetinchem",
        "Waterschap Rijn en IJssel",
        "Ijsselweg",
        "3",
        "7004 KA",
        "Doetinchem",
        "1234",
    ),
    (
        "zuivel",
        VenueKind.COMPANY,
        "Zuivelfabriek Borculo",
        "Zuivel Oost",
        "Fabrieksstraat",
        "2",
        "7271 AX",
        "Borculo",
        "12345",
    ),
    (
        "bouw",
        VenueKind.HOTSPOT,
        "Bouwplaats De Kotten",
        "Bouwbedrijf Winterswijk",
        "Kottenseweg",
        "21",
        "7102 DH",
        "Winterswijk",
        "12345",
    ),
]

# key, venue, kind, world, title, description, groep range, capacity (classes, pupils), weekdays, start, minutes
OFFERS = [
    (
        "robots",
        "doetinchem",
        OfferKind.WORKSHOP,
        World.HITECH_SCIENCE,
        "Robots programmeren",
        "De klas bouwt en programmeert een eenvoudige robot die een parcours aflegt.",
        (6, 8),
        (2, 56),
        (2, 4),
        time(9, 0),
        150,
    ),
    (
        "drone",
        "winterswijk",
        OfferKind.WORKSHOP,
        World.DIGITAAL_MEDIA_ENTERTAINMENT,
        "Games en animaties maken",
        "Leerlingen maken een eigen korte animatie en een eenvoudig spel.",
        (5, 8),
        (1, 30),
        (1, 3),
        time(9, 30),
        120,
    ),
    (
        "lijf",
        "groenlo",
        OfferKind.WORKSHOP,
        World.MENS_GEZONDHEID,
        "Je lichaam als machine",
        "Meten aan hartslag, longinhoud en spierkracht met echte sensoren.",
        (5, 8),
        (1, 30),
        (2, 4),
        time(9, 0),
        120,
    ),
    (
        "huis",
        "ulft",
        OfferKind.WORKSHOP,
        World.WONEN_WERKEN_VERKEER,
        "Bouw een slim huis",
        "Een maquette met verlichting, een deurbel en een thermostaat.",
        (6, 8),
        (2, 56),
        (1, 3),
        time(9, 0),
        150,
    ),
    (
        "kas",
        "kassen",
        OfferKind.HOTSPOT_VISIT,
        World.VOEDING_NATUUR,
        "Kijkje in de kas",
        "Hoe groeit een tomaat zonder aarde? Rondleiding en proefjes in een echte kas.",
        (5, 8),
        (1, 30),
        (2, 4),
        time(9, 30),
        120,
    ),
    (
        "stroom",
        "hoogspanning",
        OfferKind.HOTSPOT_VISIT,
        World.ENERGIE_WATER_VEILIGHEID,
        "Stroom op de bouwplaats",
        "Veilig op een bouwplaats van een hoogspanningsstation: waar komt onze stroom vandaan?",
        (7, 8),
        (1, 30),
        (3,),
        time(10, 0),
        120,
    ),
    (
        "water",
        "water",
        OfferKind.HOTSPOT_VISIT,
        World.ENERGIE_WATER_VEILIGHEID,
        "Van vies naar schoon water",
        "Volg het water door de zuivering en doe zelf een filterproef.",
        (5, 8),
        (1, 30),
        (1, 3),
        time(9, 30),
        120,
    ),
    (
        "zuivel",
        "zuivel",
        OfferKind.HOTSPOT_VISIT,
        World.ONTWERP_PRODUCTIE_WERELDHANDEL,
        "Van melk tot kaas",
        "Hoe een fabriek melk verwerkt en de kaas de wereld over gaat.",
        (5, 8),
        (1, 30),
        (2,),
        time(10, 0),
        120,
    ),
    (
        "mobiel",
        "mobiel",
        OfferKind.MOBILE_LAB,
        World.HITECH_SCIENCE,
        "TechMobiel op school",
        "Het mobiele lab komt een dagdeel naar uw school: solderen, sensoren en 3D-printen.",
        (5, 8),
        (1, 32),
        (1, 2, 3, 4, 5),
        time(9, 0),
        180,
    ),
]

SERIES = [
    (
        "metaal",
        "Masterclass Metaal en Techniek",
        World.ONTWERP_PRODUCTIE_WERELDHANDEL,
        "doetinchem",
        "metaal",
        "Drieluik: voorbereidende les op school, een masterclass in het techlab en een bezoek aan een metaalbedrijf.",
    ),
    (
        "bouw",
        "Masterclass Bouwen en Wonen",
        World.WONEN_WERKEN_VERKEER,
        "winterswijk",
        "bouw",
        "Drieluik: voorbereidende les op school, bouwen in het techlab en een bezoek aan een echte bouwplaats.",
    ),
]


@dataclass
class DemoSummary:
    created: bool
    region: Region
    password: str | None


def demo_region() -> Region | None:
    return db.session.scalar(select(Region).where(Region.code == REGION_CODE))


def load_demo(
    *, password: str = DEFAULT_PASSWORD, seed: int = 2026, today: date | None = None, echo=print
) -> DemoSummary:
    """Build the demo region (committing in steps); no-op when it exists already."""
    existing = demo_region()
    if existing is not None:
        return DemoSummary(False, existing, None)
    rng = random.Random(seed)
    today = today or datetime.now(timezone.utc).date()
    year = school_year_of(today)

    if not db.session.scalar(select(func.count(School.id))):
        from app.schools.duo import import_files

        echo("Importing the DUO school files …")
        report = import_files(DUO_FILES)
        if not report.ok:
            raise RuntimeError("DUO import failed: " + "; ".join(f.error for f in report.files if f.error))
    from app.schools.holidays import import_holidays

    import_holidays()
    region = Region(
        code=REGION_CODE,
        name="STO Achterhoek",
        holiday_region=HolidayRegion.MIDDEN,
        bus_threshold_km=6.0,
        road_factor=1.3,
        collect_gender_counts=True,
    )
    db.session.add(region)
    db.session.flush()
    schools = list(
        db.session.scalars(
            select(School)
            .where(School.corop_code.in_(COROP_CODES), School.kind == SchoolKind.BO)
            .order_by(School.location_code)
        )
    )
    for s in schools:
        s.region_id = region.id
    echo(f"Demo region {region.name}: {len(schools)} schools")

    venues = _venues(region)
    offers = _offers(region, venues, year)
    _bus_types(region)
    staff = [
        Staff(region_id=region.id, name=n, email=f"{n.split()[0].lower()}@{DOMAIN}")
        for n in ("Anouk Jansen", "Bram de Vries", "Fatima El Amrani", "Joost Wolters", "Lisa Hendriks")
    ]
    db.session.add_all(staff)
    db.session.flush()
    sessions = _sessions(region, offers, venues, staff, [year - 1, year], rng)
    users = _users(region, schools, venues, password)
    _bookings(region, schools, venues, offers, sessions, users, rng, today)  # in bulk; the buses are planned once below
    _rules(region, offers, year)
    _school_coordinator(region, year, users["leader"].password_hash)  # the demo password
    db.session.commit()
    _buses(region, today, echo)
    return DemoSummary(True, region, password)


def _buses(region: Region, today: date, echo=print) -> None:
    """Bus plans for the sessions of the coming two weeks; those within the freeze period are ordered."""
    from app.transport.jobs import freeze_due_plans, plan_upcoming

    now = datetime.combine(today, time(12, 0), tzinfo=timezone.utc)
    n = plan_upcoming(region.id, now, days=14)
    frozen = freeze_due_plans(now, tell=False)
    echo(f"Bus plans for {n} upcoming sessions ({frozen} ordered)")


def _venues(region: Region) -> dict[str, Venue]:
    venues = {}
    for key, kind, name, org, street, number, pc, city, days in VENUES:
        lat, lon = coordinates_for_postcode(pc)
        venues[key] = Venue(
            region_id=region.id,
            kind=kind,
            name=name,
            organisation=org,
            street=street,
            house_number=number,
            postcode=pc,
            city=city,
            latitude=lat,
            longitude=lon,
            opening_days=days,
            contact_name="Coördinator " + city,
            contact_email=f"{key}@{DOMAIN}",
            contact_phone="0314 000 000",
            rooms="Praktijklokaal" if kind == VenueKind.TECHLAB else "",
            accessibility="Rolstoeltoegankelijk, invalidentoilet aanwezig."
            if kind == VenueKind.TECHLAB
            else "Stevige schoenen verplicht; niet alle delen zijn rolstoeltoegankelijk.",
        )
    db.session.add_all(venues.values())
    db.session.flush()
    return venues


def _offers(region: Region, venues: dict[str, Venue], year: int) -> dict[str, Offer]:
    offers = {}
    opens = local_to_utc(date(year - 1, 6, 15), time(8, 0))
    for key, vkey, kind, world, title, desc, (gmin, gmax), (classes, pupils), _days, _start, minutes in OFFERS:
        venue = venues[vkey]
        offers[key] = Offer(
            region_id=region.id,
            venue_id=venue.id,
            school_year=year,
            kind=kind,
            title=title,
            description=desc,
            world=world,
            groep_min=gmin,
            groep_max=gmax,
            duration_minutes=minutes,
            capacity_pupils=pupils,
            capacity_classes=classes,
            adults_per_class=2 if kind != OfferKind.MOBILE_LAB else 1,
            booking_opens_at=opens,
            cancel_deadline_days=14,
            published=True,
            bus_provided=kind != OfferKind.MOBILE_LAB,
            preparation="Bespreek vooraf met de klas wat techniek is; neem werkkleding mee.",
        )
    for key, title, world, lab, hotspot, desc in SERIES:
        offer = Offer(
            region_id=region.id,
            venue_id=venues[lab].id,
            school_year=year,
            kind=OfferKind.MASTERCLASS,
            title=title,
            description=desc,
            world=world,
            groep_min=7,
            groep_max=8,
            duration_minutes=180,
            capacity_pupils=30,
            capacity_classes=1,
            adults_per_class=2,
            booking_opens_at=opens,
            cancel_deadline_days=14,
            published=True,
            bus_provided=True,
            preparation="Deel 1 is een voorbereidende les op school door een vmbo-docent: zorg voor een "
            "digibord en tafels in groepjes.",
        )
        offer.parts = [
            OfferPart(
                position=1,
                title="Voorbereidende les op school",
                location=PartLocation.AT_SCHOOL,
                min_days_after_previous=0,
                max_days_after_previous=0,
                description="Een vmbo-docent geeft op uw school een les als voorbereiding.",
            ),
            OfferPart(
                position=2,
                title="Masterclass in het techlab",
                location=PartLocation.VENUE,
                venue_id=venues[lab].id,
                min_days_after_previous=3,
                max_days_after_previous=35,
            ),
            OfferPart(
                position=3,
                title="Bezoek aan de praktijk",
                location=PartLocation.VENUE,
                venue_id=venues[hotspot].id,
                min_days_after_previous=3,
                max_days_after_previous=42,
            ),
        ]
        offers["series:" + key] = offer
    db.session.add_all(offers.values())
    db.session.flush()
    return offers


def _bus_types(region: Region) -> None:
    db.session.add_all(
        [
            BusType(
                region_id=region.id,
                name="Touringcar 50",
                carrier="Achterhoek Tours",
                seats=50,
                cost_per_trip=180.0,
                cost_per_km=1.9,
                available=6,
            ),
            BusType(
                region_id=region.id,
                name="Minibus 19",
                carrier="Taxi Oost",
                seats=19,
                cost_per_trip=95.0,
                cost_per_km=1.1,
                available=8,
            ),
        ]
    )


def _school_days(year: int, holiday_region: HolidayRegion) -> list[date]:
    from app.schools.holidays import holidays_for, is_school_holiday

    start, end = date(year, 8, 15), date(year + 1, 7, 10)
    periods = holidays_for(holiday_region, start, end)
    days, d = [], start
    while d <= end:
        if d.weekday() < 5 and not is_school_holiday(d, periods):
            days.append(d)
        d += timedelta(days=1)
    return days


def _sessions(region, offers, venues, staff, years, rng) -> dict[int, list[Session]]:
    by_offer: dict[int, list[Session]] = {}
    for year in years:
        days = _school_days(year, region.holiday_region)
        for key, vkey, kind, *_rest in OFFERS:
            _, _, _, _, _, _, _, (classes, pupils), weekdays, start, minutes = next(o for o in OFFERS if o[0] == key)
            offer, venue = offers[key], venues[vkey]
            for d in days:
                iso = d.isoweekday()
                if iso not in weekdays or str(iso) not in venue.opening_days:
                    continue
                if kind == OfferKind.HOTSPOT_VISIT and d.isocalendar().week % 2:
                    continue  # hotspots receive classes every other week
                s = _session(
                    offer,
                    venue,
                    d,
                    start,
                    minutes,
                    classes,
                    pupils,
                    PartLocation.AT_SCHOOL if kind == OfferKind.MOBILE_LAB else PartLocation.VENUE,
                )
                s.staff = [staff[rng.randrange(len(staff))]]
                by_offer.setdefault(offer.id, []).append(s)
        for skey, *_rest in SERIES:
            offer = offers["series:" + skey]
            p1, p2, p3 = offer.parts
            for d in days:
                iso = d.isoweekday()
                if iso in (1, 2):  # visiting vmbo teacher: Monday and Tuesday mornings
                    by_offer.setdefault(offer.id, []).append(
                        _session(offer, None, d, time(9, 0), 90, 1, 32, PartLocation.AT_SCHOOL, p1)
                    )
                if iso == 3 and str(iso) in venues["doetinchem" if skey == "metaal" else "winterswijk"].opening_days:
                    by_offer[offer.id].append(
                        _session(offer, p2.venue, d, time(9, 0), 180, 1, 30, PartLocation.VENUE, p2)
                    )
                if iso == 5:
                    by_offer[offer.id].append(
                        _session(offer, p3.venue, d, time(9, 30), 150, 1, 30, PartLocation.VENUE, p3)
                    )
    db.session.add_all(s for lst in by_offer.values() for s in lst)
    db.session.flush()
    return by_offer


def _session(offer, venue, d, start, minutes, classes, pupils, location, part=None) -> Session:
    starts = local_to_utc(d, start)
    return Session(
        offer_id=offer.id,
        part_id=part.id if part else None,
        venue_id=venue.id if venue is not None and location == PartLocation.VENUE else None,
        location=location,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        capacity_pupils=pupils,
        capacity_classes=classes,
    )


def _users(region, schools, venues, password) -> dict:
    pw_hash = hash_password(password)  # one hash for all demo accounts: same password, fast load
    import secrets as _secrets

    def mk(email, role, name, school=None, venue_keys=()):
        u = User(
            email=email,
            role=role,
            name=name,
            region_id=None if role == Role.ADMIN else region.id,
            school_id=school.id if school else None,
            password_hash=pw_hash,
            calendar_token=_secrets.token_urlsafe(24),
        )
        u.venues = [venues[k] for k in venue_keys]
        db.session.add(u)
        return u

    users = {
        "admin": mk(f"beheerder@{DOMAIN}", Role.ADMIN, "Beheerder Demo"),
        "leader": mk(f"programmaleider@{DOMAIN}", Role.PROGRAMME_LEADER, "Programmaleider Achterhoek"),
        "coord1": mk(
            f"coordinator.doetinchem@{DOMAIN}",
            Role.COORDINATOR,
            "Coördinator Doetinchem",
            venue_keys=("doetinchem", "ulft", "mobiel", "hoogspanning", "water", "metaal"),
        ),
        "coord2": mk(
            f"coordinator.winterswijk@{DOMAIN}",
            Role.COORDINATOR,
            "Coördinator Winterswijk",
            venue_keys=("winterswijk", "groenlo", "kassen", "zuivel", "bouw"),
        ),
    }
    teachers = {}
    for s in schools:
        teachers[s.id] = mk(teacher_email(s), Role.TEACHER, f"Leerkracht {s.name}"[:200], school=s)
    users["teachers"] = teachers
    db.session.flush()
    return users


SCHOOL_COORDINATOR_EMAIL = f"icc@{DOMAIN}"


def _school_coordinator(region: Region, year: int, password_hash: str) -> User:
    """The school coordinator (ICC) of the school with the most bookings this school year, and
    that school's classes of this year (the booking form offers them). Uses no random numbers,
    so the rest of the demo stays as it was."""
    from app.schools.models import SchoolClass
    from app.timeutil import school_year_bounds

    start, end = school_year_bounds(year)
    school_id = db.session.execute(
        select(Booking.school_id)
        .join(Session, Booking.session_id == Session.id)
        .join(School, Booking.school_id == School.id)
        .where(
            School.region_id == region.id,
            Session.starts_at >= datetime.combine(start, time(0), tzinfo=timezone.utc),
            Session.starts_at <= datetime.combine(end, time(23, 59), tzinfo=timezone.utc),
        )
        .group_by(Booking.school_id, School.location_code)
        .order_by(func.count().desc(), School.location_code)
        .limit(1)
    ).scalar()
    school = (
        db.session.get(School, school_id)
        if school_id
        else db.session.scalar(
            select(School).where(School.region_id == region.id).order_by(School.location_code).limit(1)
        )
    )
    import secrets as _secrets

    user = User(
        email=SCHOOL_COORDINATOR_EMAIL,
        role=Role.SCHOOL_COORDINATOR,
        name=f"ICC-coördinator {school.name}"[:200],
        region_id=region.id,
        school_id=school.id,
        password_hash=password_hash,
        calendar_token=_secrets.token_urlsafe(24),
    )
    db.session.add(user)
    for name, groep, pupils in (("6A", 6, 27), ("7A", 7, 26), ("7B", 7, 24), ("8A", 8, 28)):
        db.session.add(
            SchoolClass(
                school_id=school.id, school_year=year, name=name, groep_min=groep, groep_max=groep, pupils=pupils
            )
        )
    db.session.flush()
    return user


def teacher_email(school: School) -> str:
    return f"leerkracht.{school.location_code.lower()}@{DOMAIN}"


def _bookings(region, schools, venues, offers, sessions_by_offer, users, rng, today) -> None:
    """History and some future bookings, inserted directly with consistent counters."""
    now = datetime.combine(today, time(12, 0), tzinfo=timezone.utc)
    lab_coords = [(v.latitude, v.longitude) for v in venues.values() if v.kind == VenueKind.TECHLAB]
    nearest = {
        s.id: min(road_km(s.latitude, s.longitude, la, lo, region.road_factor) or 99 for la, lo in lab_coords)
        for s in schools
    }
    # eager schools book often, far ones less, about a quarter never
    appetite = {}
    for s in schools:
        r = rng.random()
        base = 0.0 if r < 0.25 else (3.0 if r > 0.9 else 1.0)
        appetite[s.id] = base / (1 + nearest[s.id] / 10)
    enrol_cache: dict[int, dict] = {}

    def enrolment(year):
        if year not in enrol_cache:  # DUO publishes a year after the peildatum: use the latest there is
            rows = {}
            for y in range(year, year - 4, -1):
                rows = enrolment_by_groep([s.id for s in schools], y)
                if rows:
                    break
            enrol_cache[year] = rows
        return enrol_cache[year]

    school_ids = [s.id for s in schools]
    weights = [appetite[i] for i in school_ids]
    series_offers = {o.id for o in offers.values() if o.kind == OfferKind.MASTERCLASS}

    def class_of(school_id, year, gmin, gmax):
        groep = rng.randint(gmin, gmax)
        rows = enrolment(year).get(school_id)
        pupils = rows[groep - 1].pupils if rows else 24
        return groep, max(8, min(32, pupils or 24))

    def status_for(session):
        if session.starts_at > now:
            return BookingStatus.CONFIRMED
        r = rng.random()
        return BookingStatus.ATTENDED if r < 0.86 else (BookingStatus.NO_SHOW if r < 0.92 else BookingStatus.CANCELLED)

    def add(session, school_id, groep, pupils, status, series=None, position=None):
        teacher = users["teachers"][school_id]
        created = min(session.starts_at - timedelta(days=rng.randint(15, 90)), now)
        b = Booking(
            session_id=session.id,
            school_id=school_id,
            status=status,
            groep_min=groep,
            groep_max=groep,
            pupils=pupils,
            adults=2,
            contact_user_id=teacher.id,
            contact_name=teacher.name,
            contact_email=teacher.email,
            series=series,
            part_position=position,
            created_at=created,
            girls=pupils // 2,
            boys=pupils - pupils // 2,
        )
        if status == BookingStatus.ATTENDED:
            b.attended_pupils = max(1, pupils - rng.randint(0, 2))
        if status == BookingStatus.CANCELLED:
            b.cancelled_at, b.cancel_reason = created + timedelta(days=3), "Past niet in de planning"
        if status in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED):
            session.booked_pupils += pupils
            session.booked_classes += 1
        db.session.add(b)  # inserted in batches at the next flush (the events name it by relationship)
        db.session.add(
            BookingEvent(
                booking=b,
                actor_id=teacher.id,
                at=created,
                action="create",
                from_status=None,
                to_status=BookingStatus.CONFIRMED.value,
            )
        )
        if status != BookingStatus.CONFIRMED:
            db.session.add(
                BookingEvent(
                    booking=b,
                    actor_id=None,
                    at=session.ends_at,
                    action=status.value,
                    from_status=BookingStatus.CONFIRMED.value,
                    to_status=status.value,
                )
            )
        return b

    for offer_id in sorted(sessions_by_offer):
        sessions = sessions_by_offer[offer_id]
        offer = db.session.get(Offer, offer_id)
        if offer_id in series_offers:
            _series_bookings(offer, sessions, school_ids, weights, rng, now, class_of, status_for, add)
            continue
        for s in sessions:
            fill = 0.75 if s.starts_at < now else (0.35 if s.starts_at < now + timedelta(days=60) else 0.0)
            taken = set()
            for _ in range(s.capacity_classes):
                if rng.random() > fill:
                    continue
                school_id = rng.choices(school_ids, weights)[0]
                if school_id in taken:
                    continue
                taken.add(school_id)
                groep, pupils = class_of(school_id, school_year_of(s.starts_at), offer.groep_min, offer.groep_max)
                if pupils > s.capacity_pupils - s.booked_pupils:
                    continue
                add(s, school_id, groep, pupils, status_for(s))
            if s.starts_at > now and s.booked_classes >= s.capacity_classes and rng.random() < 0.5:
                school_id = rng.choices(school_ids, weights)[0]
                if school_id not in taken:
                    groep, pupils = class_of(school_id, school_year_of(s.starts_at), offer.groep_min, offer.groep_max)
                    b = add(s, school_id, groep, pupils, BookingStatus.WAITLISTED)
                    b.waitlisted_at = b.created_at


def _series_bookings(offer, sessions, school_ids, weights, rng, now, class_of, status_for, add) -> None:
    parts = {p.id: p.position for p in offer.parts}
    by_part: dict[int, list[Session]] = {1: [], 2: [], 3: []}
    for s in sessions:
        by_part[parts[s.part_id]].append(s)
    booked_schools: set[tuple[int, int]] = set()
    for first in by_part[1]:
        if rng.random() > (0.5 if first.starts_at < now else 0.2) or first.starts_at > now + timedelta(days=45):
            continue
        chain = [first]
        for pos in (2, 3):
            part = offer.parts[pos - 1]
            prev = chain[-1]
            options = [
                s
                for s in by_part[pos]
                if s.booked_classes < s.capacity_classes
                and timedelta(days=part.min_days_after_previous)
                <= s.starts_at - prev.starts_at
                <= timedelta(days=part.max_days_after_previous)
            ]
            if not options:
                break
            chain.append(options[0])
        if len(chain) < 3:
            continue
        school_id = rng.choices(school_ids, weights)[0]
        year = school_year_of(first.starts_at)
        if (school_id, year) in booked_schools:
            continue
        booked_schools.add((school_id, year))
        groep, pupils = class_of(school_id, year, offer.groep_min, offer.groep_max)
        if any(pupils > s.capacity_pupils - s.booked_pupils for s in chain):
            continue
        series = SeriesBooking(offer_id=offer.id, school_id=school_id, status=BookingStatus.CONFIRMED)
        db.session.add(series)
        dropped = rng.random() < 0.25  # part 3 is the one that gets dropped
        for pos, s in enumerate(chain, start=1):
            status = status_for(s)
            if pos == 3 and dropped and s.starts_at < now:
                status = BookingStatus.CANCELLED
            add(s, school_id, groep, pupils, status, series=series, position=pos)


def _rules(region, offers, year) -> None:
    """The rules the field uses: 2 masterclass series per school a year, 1 booking per class per
    offer, and a priority window of two weeks for schools not yet reached."""
    from app.booking.models import FairnessRule, RuleKind, RuleScope

    opens = min(o.booking_opens_at for o in offers.values())
    db.session.add_all(
        [
            FairnessRule(
                region_id=region.id,
                school_year=year,
                kind=RuleKind.MAX_PER_SCHOOL,
                scope=RuleScope.OFFER_KIND,
                scope_value=OfferKind.MASTERCLASS.value,
                max_count=2,
                description="Hoogstens twee masterclass-reeksen per school per schooljaar.",
            ),
            FairnessRule(
                region_id=region.id,
                school_year=year,
                kind=RuleKind.MAX_PER_CLASS,
                scope=RuleScope.OFFER,
                max_count=1,
                description="Een klas doet elk aanbod één keer.",
            ),
            FairnessRule(
                region_id=region.id,
                school_year=year,
                kind=RuleKind.PRIORITY_WINDOW,
                scope=RuleScope.YEAR,
                window_start=opens,
                window_end=opens + timedelta(days=14),
                description="De eerste twee weken zijn voor scholen die nog niet bereikt zijn.",
            ),
        ]
    )


def print_accounts(region: Region, password: str | None, echo=print) -> None:
    users = db.session.scalars(
        select(User)
        .where((User.region_id == region.id) | (User.role == Role.ADMIN))
        .where(User.role != Role.TEACHER)
        .order_by(User.role, User.email)
    ).all()
    teachers = db.session.scalars(
        select(User).where(User.region_id == region.id, User.role == Role.TEACHER).order_by(User.email).limit(3)
    ).all()
    n_teachers = db.session.scalar(
        select(func.count(User.id)).where(User.region_id == region.id, User.role == Role.TEACHER)
    )
    echo("")
    echo(f"Demo region: {region.name}")
    echo("Demo accounts:")
    for u in users:
        echo(f"  {u.role.value:<17} {u.email}")
    echo(f"  teacher           one per school ({n_teachers}): leerkracht.<vestigingscode>@{DOMAIN}, e.g.")
    for t in teachers:
        echo(f"                    {t.email}")
    echo("  (flask --app wsgi users list --role teacher lists them all)")
    echo(
        f"Password: {password}"
        if password
        else "Password: as chosen when the demo was loaded "
        f"(default {DEFAULT_PASSWORD}); `flask --app wsgi demo load --reset --password …` rebuilds it"
    )


def reset_demo() -> bool:
    """Remove the demo region and everything in it (schools stay, without a region)."""
    from sqlalchemy import delete, update

    from app.auth.models import ApiToken, coordinator_venues
    from app.booking.models import FairnessRule, RequestRound
    from app.labs.models import Kit, KitLoan, VenueClosure, session_staff
    from app.schools.models import SchoolClass
    from app.transport.models import BusPlan, RoadDistance

    region = demo_region()
    if region is None:
        return False
    offer_ids = select(Offer.id).where(Offer.region_id == region.id)
    session_ids = select(Session.id).where(Session.offer_id.in_(offer_ids))
    booking_ids = select(Booking.id).where(Booking.session_id.in_(session_ids))
    venue_ids = select(Venue.id).where(Venue.region_id == region.id)
    user_ids = select(User.id).where(User.region_id == region.id)
    kit_ids = select(Kit.id).where(Kit.region_id == region.id)
    for stmt in (
        delete(BusPlan).where(BusPlan.session_id.in_(session_ids)),
        delete(BookingEvent).where(BookingEvent.booking_id.in_(booking_ids)),
        delete(Booking).where(Booking.id.in_(booking_ids)),
        delete(SeriesBooking).where(SeriesBooking.offer_id.in_(offer_ids)),
        delete(session_staff).where(session_staff.c.session_id.in_(session_ids)),
        delete(Session).where(Session.id.in_(session_ids)),
        delete(OfferPart).where(OfferPart.offer_id.in_(offer_ids)),
        update(Offer).where(Offer.region_id == region.id).values(copied_from_id=None),
        delete(Offer).where(Offer.region_id == region.id),
        delete(KitLoan).where(KitLoan.kit_id.in_(kit_ids)),
        delete(Kit).where(Kit.region_id == region.id),
        delete(RoadDistance).where(RoadDistance.venue_id.in_(venue_ids)),
        delete(coordinator_venues).where(coordinator_venues.c.venue_id.in_(venue_ids)),
        delete(VenueClosure).where(VenueClosure.venue_id.in_(venue_ids)),
        delete(Venue).where(Venue.region_id == region.id),
        delete(Staff).where(Staff.region_id == region.id),
        delete(BusType).where(BusType.region_id == region.id),
        delete(FairnessRule).where(FairnessRule.region_id == region.id),
        delete(RequestRound).where(RequestRound.region_id == region.id),
        delete(ApiToken).where(ApiToken.user_id.in_(user_ids)),
        delete(User).where(User.region_id == region.id),
        delete(User).where(User.email == f"beheerder@{DOMAIN}"),
        delete(SchoolClass).where(SchoolClass.school_id.in_(select(School.id).where(School.region_id == region.id))),
        update(School).where(School.region_id == region.id).values(region_id=None),
        delete(Region).where(Region.id == region.id),
    ):
        db.session.execute(stmt)
    db.session.commit()
    return True
