"""The coordinator's workspace through its pages: set up a techlab, plan a term, attendance, kits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.auth.models import HolidayRegion, User
from app.booking.models import Booking, BookingStatus
from app.booking.services import ClassDetails, create_booking, record_attendance
from app.extensions import db
from app.labs.models import Kit, KitLoan, Offer, Session, Venue, World
from app.labs.services import LabError, copy_offer_to_next_year, reserve_kit
from app.reporting.reach import reach_by_school
from app.schools.holidays import import_holidays
from app.timeutil import school_year_of, to_local
from tests import factories


def test_coordinator_sets_up_a_techlab_with_two_offers_and_a_term(client, app, login):
    region = factories.region(holiday_region=HolidayRegion.MIDDEN)
    import_holidays()
    coord = factories.user("coordinator", region=region)
    db.session.commit()
    login(coord)
    resp = client.post(
        "/beheer/locaties/nieuw",
        data={
            "kind": "techlab",
            "name": "Techlab Zutphen",
            "organisation": "Baudartius College",
            "street": "Isendoornstraat",
            "house_number": "1",
            "postcode": "7201 NJ",
            "city": "Zutphen",
            "opening_days": ["1", "2", "3", "4", "5"],
        },
    )
    assert resp.status_code == 302, resp.text[:2000]
    venue = db.session.scalar(select(Venue).where(Venue.name == "Techlab Zutphen"))
    assert venue.latitude is not None and venue in db.session.get(User, coord.id).venues
    offer_ids = []
    for title, world in (("Solderen en sensoren", "hitech_science"), ("Bruggen bouwen", "wonen_werken_verkeer")):
        resp = client.post(
            "/beheer/aanbod/nieuw",
            data={
                "title": title,
                "kind": "workshop",
                "world": world,
                "venue_id": venue.id,
                "school_year": "2026",
                "groep_min": "6",
                "groep_max": "8",
                "duration_minutes": "120",
                "capacity_classes": "1",
                "capacity_pupils": "30",
                "adults_per_class": "2",
                "cancel_deadline_days": "14",
                "bus_provided": "y",
            },
        )
        assert resp.status_code == 302, resp.text[:2000]
        offer_ids.append(int(resp.headers["Location"].rstrip("/").split("/")[-1]))
        client.post(f"/beheer/aanbod/{offer_ids[-1]}/publiceren")
    term = {"weekdays": ["2", "4"], "start": "09:00", "first_day": "2026-09-01", "last_day": "2027-01-31"}
    preview = client.post(f"/beheer/aanbod/{offer_ids[0]}/plannen", data={**term, "action": "preview"})
    assert preview.status_code == 200 and "Herfstvakantie" in preview.text and "Kerstvakantie" in preview.text
    assert db.session.scalar(select(func.count(Session.id))) == 0  # a preview creates nothing
    for oid in offer_ids:
        assert client.post(f"/beheer/aanbod/{oid}/plannen", data={**term, "action": "create"}).status_code == 302
    sessions = db.session.scalars(select(Session).where(Session.offer_id == offer_ids[0])).all()
    days = {to_local(s.starts_at).date() for s in sessions}
    assert len(sessions) > 20 and all(db.session.get(Offer, oid).published for oid in offer_ids)
    assert not any(date(2026, 10, 17) <= d <= date(2026, 10, 25) for d in days)  # autumn, region midden
    assert not any(date(2026, 12, 19) <= d <= date(2027, 1, 3) for d in days)  # Christmas
    assert all(to_local(s.starts_at).hour == 9 for s in sessions)
    # planning again creates nothing twice
    client.post(f"/beheer/aanbod/{offer_ids[0]}/plannen", data={**term, "action": "create"})
    assert db.session.scalar(select(func.count(Session.id)).where(Session.offer_id == offer_ids[0])) == len(sessions)
    assert client.get("/beheer/agenda?view=month&date=2026-09-01").status_code == 200


def _running_lab():
    region = factories.region()
    venue = factories.venue(region, name="Techlab Doetinchem")
    other_venue = factories.venue(region, name="Ander lab")
    coord = factories.user("coordinator", region=region, venues=[venue])
    offer = factories.offer(region, venue, adults_per_class=1)
    other_offer = factories.offer(region, other_venue)
    return region, venue, other_venue, coord, offer, other_offer


def test_permissions_of_coordinators(client, app, login):
    region, venue, other_venue, coord, offer, other_offer = _running_lab()
    far = factories.region()
    far_venue = factories.venue(far)
    teacher = factories.teacher(factories.school(region))
    db.session.commit()
    login(coord)
    assert client.get(f"/beheer/locaties/{venue.id}").status_code == 200
    assert client.get(f"/beheer/locaties/{other_venue.id}").status_code == 403  # same region, not theirs
    assert client.get(f"/beheer/locaties/{far_venue.id}").status_code == 404  # another region
    assert client.get(f"/beheer/aanbod/{other_offer.id}").status_code == 403
    assert client.post(f"/beheer/aanbod/{other_offer.id}/publiceren").status_code == 403
    client.post("/uitloggen")
    login(teacher)
    assert client.get("/beheer/").status_code == 403


def test_day_sheet_and_attendance_feed_reach(client, app, login, mailbox, drain_outbox):
    region, venue, other_venue, coord, offer, other_offer = _running_lab()
    session = factories.session(
        offer, datetime.now(timezone.utc) + timedelta(days=20), capacity_classes=2, capacity_pupils=60
    )
    a, b = factories.school(region, name="De Zonnewijzer"), factories.school(region, name="De Regenboog")
    ba = create_booking(factories.teacher(a), session.id, ClassDetails(a.id, "7", 24, 2, remarks="Rolstoel"))
    bb = create_booking(factories.teacher(b), session.id, ClassDetails(b.id, "8", 20, 2))
    db.session.commit()
    login(coord)
    day = to_local(session.starts_at).date().isoformat()
    sheet = client.get(f"/beheer/dagoverzicht/{venue.id}/{day}")
    assert sheet.status_code == 200
    assert (
        "De Zonnewijzer" in sheet.text
        and "Rolstoel" in sheet.text
        and "Totaal: 44 leerlingen, 4 begeleiders" in sheet.text
    )
    assert 'media="print"' in sheet.text
    # after the session: attendance, then the reach figures show it
    later = session.starts_at + timedelta(hours=3)
    record_attendance(coord, ba.id, "attended", 23, now=later)
    record_attendance(coord, bb.id, "no_show", now=later)
    db.session.commit()
    reach = reach_by_school(region.id, school_year_of(session.starts_at))
    assert set(reach) == {a.id} and reach[a.id].pupils == 23 and reach[a.id].classes == 1


def test_attendance_reminder_job_once(app, mailbox, drain_outbox):
    from app.labs.jobs import attendance_reminders

    region, venue, other_venue, coord, offer, other_offer = _running_lab()
    past = factories.session(offer, datetime.now(timezone.utc) - timedelta(days=2))
    school = factories.school(region)
    db.session.add(
        Booking(
            session_id=past.id,
            school_id=school.id,
            status=BookingStatus.CONFIRMED,
            groep_min=7,
            groep_max=7,
            pupils=20,
            adults=2,
        )
    )
    past.booked_pupils, past.booked_classes = 20, 1
    db.session.commit()
    drain_outbox()
    mailbox.clear()
    now = datetime.now(timezone.utc)
    assert attendance_reminders(now) == 1 and attendance_reminders(now) == 0
    drain_outbox()
    assert len(mailbox) == 1 and mailbox[0]["To"] == coord.email


def test_copy_offer_to_next_year(app):
    region, venue, other_venue, coord, offer, other_offer = _running_lab()
    hotspot = factories.venue(region, name="Hotspot")
    series = factories.series_offer(region, venue, hotspot, booking_opens_at=datetime(2026, 6, 1, tzinfo=timezone.utc))
    copy = copy_offer_to_next_year(coord, series)
    assert copy.school_year == series.school_year + 1 and not copy.published
    assert [p.title for p in copy.parts] == [p.title for p in series.parts]
    assert copy.booking_opens_at.year == 2027
    with pytest.raises(LabError):
        copy_offer_to_next_year(coord, series)


def test_kit_stock_holds_under_concurrency(app):
    region = factories.region()
    kit = Kit(region_id=region.id, title="Windmolens", world=World.ENERGIE_WATER_VEILIGHEID, stock=2, loan_days=14)
    db.session.add(kit)
    teachers = [factories.teacher(factories.school(region)).id for _ in range(6)]
    db.session.commit()
    kit_id = kit.id
    start = date.today() + timedelta(days=10)
    db.session.remove()

    def reserve(tid):
        with app.app_context():
            try:
                reserve_kit(db.session.get(User, tid), kit_id, start)
                db.session.commit()
                return "ok"
            except LabError as exc:
                db.session.rollback()
                return exc.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(reserve, teachers))
    assert results.count("ok") == 2 and results.count("kit_unavailable") == 4
    assert db.session.scalar(select(func.count(KitLoan.id))) == 2
    db.session.remove()
    # after the loan period the kit is free again
    with app.app_context():
        later = reserve_kit(db.session.get(User, teachers[0]), kit_id, start + timedelta(days=14))
        assert later.ends_on == start + timedelta(days=27)
        db.session.rollback()
        db.session.remove()
    db.session.remove()


def test_staff_double_booking_warning_and_bulk_retime(client, app, login, mailbox, drain_outbox):
    from app.labs.models import Staff

    region, venue, other_venue, coord, offer, other_offer = _running_lab()
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=20)
    s1 = factories.session(offer, start)
    s2 = factories.session(other_offer, start + timedelta(minutes=30))
    other_offer.venue_id = venue.id  # both managed by this coordinator
    anouk = Staff(region_id=region.id, name="Anouk Jansen")
    db.session.add(anouk)
    school = factories.school(region)
    create_booking(factories.teacher(school), s1.id, ClassDetails(school.id, "7", 20, 2))
    db.session.commit()
    login(coord)
    client.post(f"/beheer/les/{s1.id}/medewerker", data={"staff_id": anouk.id, "session_id": s1.id})
    resp = client.post(
        f"/beheer/les/{s2.id}/medewerker", data={"staff_id": anouk.id, "session_id": s2.id}, follow_redirects=True
    )
    assert "Let op: Anouk Jansen staat op dat moment ook bij" in resp.text
    drain_outbox()
    mailbox.clear()
    resp = client.post(
        f"/beheer/aanbod/{offer.id}/lessen", data={"session_id": [s1.id], "action": "retime", "start": "13:15"}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Session, s1.id)
    assert to_local(moved.starts_at).strftime("%H:%M") == "13:15"
    assert moved.ends_at - moved.starts_at == timedelta(minutes=offer.duration_minutes)
    drain_outbox()
    assert any(m["Subject"].startswith("Gewijzigd") for m in mailbox)


def test_mobile_lab_visit_is_booked_like_a_session_and_shown_at_the_school(client, app, login, mailbox, drain_outbox):
    """The mobile lab goes to the school: one class a day of the lab, no bus, and the
    coordinator's calendar and day sheet say where to drive to."""
    from app.labs.models import OfferKind, PartLocation, VenueKind
    from app.transport.models import BusPlan

    region = factories.region()
    lab = factories.venue(region, kind=VenueKind.MOBILE_LAB, name="TechMobiel")
    coord = factories.user("coordinator", region=region, venues=[lab])
    offer = factories.offer(region, lab, kind=OfferKind.MOBILE_LAB, title="TechMobiel op school")
    day = datetime.now(timezone.utc).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=21)
    visit = factories.session(offer, day, location=PartLocation.AT_SCHOOL, capacity_classes=1)
    far = factories.school(
        region,
        name="De Klimop",
        street="Dorpsstraat",
        house_number="7",
        postcode="7134 AB",
        city="Vragender",
        latitude=52.0,
        longitude=6.7,
    )  # far from everything: still no bus
    other = factories.school(region, name="Het Baken")
    create_booking(factories.teacher(far), visit.id, ClassDetails(far.id, "6", 24, 2))
    late = create_booking(factories.teacher(other), visit.id, ClassDetails(other.id, "6", 20, 2), waitlist=True)
    db.session.commit()
    assert late.status == BookingStatus.WAITLISTED  # the lab's day is taken by one class
    assert db.session.scalar(select(func.count(BusPlan.id)).where(BusPlan.session_id == visit.id)) == 0

    login(coord)
    local = to_local(visit.starts_at).date()
    week = client.get(f"/beheer/agenda?date={local.isoformat()}")
    assert week.status_code == 200
    assert "De Klimop" in week.text and "Dorpsstraat 7" in week.text and "Vragender" in week.text
    assert "Het Baken" not in week.text  # waiting, not going
