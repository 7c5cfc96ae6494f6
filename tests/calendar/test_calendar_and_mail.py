"""iCalendar output (checked with an independent parser), feeds, mails over real SMTP, reminders."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import vobject
from sqlalchemy import select

from app.booking.ical import booking_event, calendar_bytes
from app.booking.jobs import send_reminders
from app.booking.services import ClassDetails, cancel_booking, create_booking, create_series_booking, move_booking
from app.extensions import db
from app.jobs import JobRun
from app.scheduler import run_job, scheduler_alive
from tests import factories

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _world():
    region = factories.region()
    venue = factories.venue(
        region,
        name="Techlab Doetinchem",
        street="Kruisbergseweg",
        house_number="8",
        postcode="7001 BH",
        city="Doetinchem",
    )
    hotspot = factories.venue(region, name="Kassen")
    offer = factories.offer(
        region, venue, adults_per_class=1, capacity_classes=2, capacity_pupils=60, preparation="Neem werkkleding mee."
    )
    school = factories.school(region)
    teacher = factories.teacher(school)
    coord = factories.user("coordinator", region=region, venues=[venue])
    return region, venue, hotspot, offer, school, teacher, coord


def _parse(data: bytes):
    return vobject.readOne(data.decode())


def test_booking_event_parsed_by_vobject_across_dst(app):
    region, venue, hotspot, offer, school, teacher, coord = _world()
    # 2 November 2026 is after the end of summer time: 09:00 local = 08:00 UTC
    start = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    s = factories.session(offer, start)
    summer = factories.session(offer, datetime(2026, 10, 19, 7, 0, tzinfo=timezone.utc))  # 09:00 CEST
    b = create_booking(teacher, s.id, ClassDetails(school.id, "7", 25, 2), now=start - timedelta(days=30))
    b2 = create_booking(teacher, summer.id, ClassDetails(school.id, "7", 25, 2), now=start - timedelta(days=30))
    raw = calendar_bytes(
        [booking_event(b, "https://boeken.example.nl"), booking_event(b2, "https://boeken.example.nl")], "Test"
    )
    assert b"DTSTART;TZID=Europe/Amsterdam:20261102T090000" in raw
    cal = _parse(raw)
    assert cal.vtimezone.tzid.value == "Europe/Amsterdam"
    events = {e.uid.value: e for e in cal.vevent_list}
    ev = events[f"booking-{b.id}@boeken.example.nl"]
    assert ev.dtstart.value.hour == 9 and ev.dtstart.value.utcoffset() == timedelta(hours=1)
    ev2 = events[f"booking-{b2.id}@boeken.example.nl"]
    assert ev2.dtstart.value.hour == 9 and ev2.dtstart.value.utcoffset() == timedelta(hours=2)
    assert "Kruisbergseweg 8, 7001 BH Doetinchem" in ev.location.value
    assert "Neem werkkleding mee." in ev.description.value and ev.sequence.value == "0"
    assert ev.status.value == "CONFIRMED"


def test_sequence_rises_and_cancel_sets_status(app):
    region, venue, hotspot, offer, school, teacher, coord = _world()
    s1 = factories.session(offer, NOW + timedelta(days=30))
    s2 = factories.session(offer, NOW + timedelta(days=31))
    b = create_booking(teacher, s1.id, ClassDetails(school.id, "7", 25, 2), now=NOW)
    uid = _parse(calendar_bytes([booking_event(b, "http://x")], "t")).vevent.uid.value
    move_booking(coord, b.id, s2.id, "Andere dag", now=NOW)
    cancel_booking(teacher, b.id, now=NOW)
    ev = _parse(calendar_bytes([booking_event(b, "http://x")], "t")).vevent
    assert ev.uid.value == uid and int(ev.sequence.value) == 2 and ev.status.value == "CANCELLED"


def test_mails_after_commit_with_ics(app, mailbox, drain_outbox):
    region, venue, hotspot, offer, school, teacher, coord = _world()
    s = factories.session(offer, NOW + timedelta(days=30))
    db.session.commit()
    create_booking(teacher, s.id, ClassDetails(school.id, "7", 25, 2), now=NOW)
    assert mailbox == []  # queued, not sent before the commit
    db.session.commit()
    assert mailbox == []  # committed to the outbox: the worker sends it
    assert drain_outbox() == 2  # the mail, and the re-plan of the session's buses
    assert len(mailbox) == 1
    msg = mailbox[0]
    assert msg["To"] == teacher.email and msg["Subject"].startswith("Bevestiging:")
    assert "is bevestigd" in msg.get_body(("plain",)).get_content()
    ics = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert (
        len(ics) == 1
        and _parse(
            ics[0].get_content().encode() if isinstance(ics[0].get_content(), str) else ics[0].get_content()
        ).vevent.summary.value
        == offer.title
    )


def test_no_mail_on_rollback(app, mailbox, drain_outbox):
    region, venue, hotspot, offer, school, teacher, coord = _world()
    s = factories.session(offer, NOW + timedelta(days=30))
    db.session.commit()
    create_booking(teacher, s.id, ClassDetails(school.id, "7", 25, 2), now=NOW)
    db.session.rollback()
    db.session.commit()
    assert drain_outbox() == 0
    assert mailbox == []


def test_english_mail_for_english_user(app, mailbox, drain_outbox):
    region, venue, hotspot, offer, school, teacher, coord = _world()
    teacher.locale = "en"
    s = factories.session(offer, NOW + timedelta(days=30))
    db.session.commit()
    create_booking(teacher, s.id, ClassDetails(school.id, "7", 25, 2), now=NOW)
    db.session.commit()
    drain_outbox()
    assert mailbox and "is confirmed" in mailbox[0].get_body(("plain",)).get_content()


def test_promotion_mail_goes_to_the_waiting_class(app, mailbox, drain_outbox):
    region, venue, hotspot, offer, school, teacher, coord = _world()
    offer.capacity_classes = 1
    s = factories.session(offer, NOW + timedelta(days=30), capacity_classes=1)
    other = factories.school(region)
    waiting_teacher = factories.teacher(other)
    b = create_booking(teacher, s.id, ClassDetails(school.id, "7", 25, 2), now=NOW)
    w = create_booking(waiting_teacher, s.id, ClassDetails(other.id, "8", 20, 2), waitlist=True, now=NOW)
    db.session.commit()
    drain_outbox()
    mailbox.clear()
    cancel_booking(teacher, b.id, now=NOW)
    db.session.commit()
    drain_outbox()
    promoted = [m for m in mailbox if m["To"] == waiting_teacher.email]
    assert len(promoted) == 1 and "Er is plaats" in promoted[0]["Subject"]
    assert any(p.get_content_type() == "text/calendar" for p in promoted[0].iter_attachments())
    assert w.status.value == "confirmed"


def test_feed_and_regeneration(client, app, login):
    region, venue, hotspot, offer, school, teacher, coord = _world()
    lab2 = factories.venue(region, name="Lab 2")
    series = factories.series_offer(region, venue, hotspot, groep_min=7, groep_max=8, adults_per_class=1)
    parts = [factories.session(series, NOW + timedelta(days=20 + 7 * i), part=p) for i, p in enumerate(series.parts)]
    create_series_booking(teacher, series.id, [p.id for p in parts], ClassDetails(school.id, "7", 25, 2), now=NOW)
    db.session.commit()
    token = teacher.calendar_token
    resp = client.get(f"/agenda/{token}.ics")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/calendar")
    assert len(_parse(resp.data).vevent_list) == 3  # the three parts of the masterclass
    login(teacher)
    assert token in client.get("/agenda/").text
    client.post("/agenda/nieuw-adres")
    assert client.get(f"/agenda/{token}.ics").status_code == 404  # the old address is revoked
    assert client.get("/agenda/onbekend.ics").status_code == 404
    db.session.refresh(coord)
    coord_feed = client.get(f"/agenda/{coord.calendar_token}.ics")
    assert len(_parse(coord_feed.data).vevent_list) >= 2
    del lab2


def test_reminders_once_even_when_run_twice_and_concurrently(app, mailbox, drain_outbox):
    region, venue, hotspot, offer, school, teacher, coord = _world()
    soon = factories.session(offer, NOW + timedelta(days=2), capacity_classes=3)
    later = factories.session(offer, NOW + timedelta(days=20))
    schools = [factories.school(region) for _ in range(3)]
    for sch in schools:
        create_booking(factories.teacher(sch), soon.id, ClassDetails(sch.id, "7", 10, 2), now=NOW - timedelta(days=30))
    create_booking(teacher, later.id, ClassDetails(school.id, "7", 10, 2), now=NOW)
    db.session.commit()
    db.session.remove()
    drain_outbox()
    mailbox.clear()

    def run():
        with app.app_context():
            try:
                return send_reminders(NOW)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(3) as pool:
        counts = list(pool.map(lambda _: run(), range(3)))
    assert sum(counts) == 3 and run() == 0
    drain_outbox()
    assert len([m for m in mailbox if m["Subject"].startswith("Herinnering")]) == 3


def test_scheduler_runs_a_job_once_when_two_race(app):
    db.session.commit()
    db.session.remove()
    scheduled = datetime(2026, 11, 23, 10, 15, tzinfo=timezone.utc)

    def fire():
        with app.app_context():
            return run_job("booking.send_reminders", scheduled)

    with ThreadPoolExecutor(2) as pool:
        ran = list(pool.map(lambda _: fire(), range(2)))
    assert sorted(ran) == [False, True]
    runs = db.session.scalars(select(JobRun).where(JobRun.name == "booking.send_reminders")).all()
    assert len(runs) == 1 and runs[0].result.startswith("ok")
    assert not scheduler_alive()
    db.session.remove()
