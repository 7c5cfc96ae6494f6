"""Booking pages: a teacher books, sees, cancels; a coordinator runs the roster."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Session
from tests import factories

NOW = datetime.now(timezone.utc)


def _setup():
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, groep_min=6, groep_max=8, capacity_classes=1, adults_per_class=1)
    s1 = factories.session(offer, NOW + timedelta(days=30))
    s2 = factories.session(offer, NOW + timedelta(days=37))
    school = factories.school(region)
    teacher = factories.teacher(school)
    coord = factories.user("coordinator", region=region, venues=[venue])
    db.session.commit()
    return dict(s1=s1.id, s2=s2.id, offer=offer.id), teacher, coord


FORM = {
    "groep": "7/8",
    "pupils": "24",
    "adults": "2",
    "contact_name": "Juf Anna",
    "contact_email": "anna@school.nl",
    "remarks": "Eén leerling in een rolstoel",
    "waitlist": "y",
}


def test_teacher_books_sees_and_cancels(client, app, login, mailbox, drain_outbox):
    ids, teacher, coord = _setup()
    login(teacher)
    page = client.get(f"/boekingen/nieuw?session_id={ids['s1']}")
    assert page.status_code == 200 and 'value="' + teacher.email + '"' in page.text
    resp = client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM)
    assert resp.status_code == 302
    booking = db.session.scalars(select(Booking)).one()
    assert booking.status == BookingStatus.CONFIRMED and booking.remarks.startswith("Eén")
    drain_outbox()
    assert any("anna@school.nl" in m["To"] and teacher.email in m["To"] for m in mailbox)
    mine = client.get("/boekingen/")
    assert mine.status_code == 200 and "Bevestigd" in mine.text
    detail = client.get(f"/boekingen/{booking.id}")
    assert "Annuleren" in detail.text and "Eén leerling in een rolstoel" in detail.text
    assert client.post(f"/boekingen/{booking.id}/annuleren").status_code == 302
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED


def test_form_errors_are_reshown_and_nothing_is_written(client, app, login):
    ids, teacher, coord = _setup()
    login(teacher)
    resp = client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data={**FORM, "pupils": "99"})
    assert resp.status_code == 422 and "Tussen 1 en 40." in resp.text and 'aria-invalid="true"' in resp.text
    resp = client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data={**FORM, "groep": "4"})
    assert resp.status_code == 422 and "Dit aanbod is voor groep 6 tot en met 8." in resp.text
    resp = client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data={**FORM, "adults": "0"})
    assert resp.status_code == 422 and "begeleiders" in resp.text
    assert 'value="Juf Anna"' in resp.text  # what was typed is kept
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_full_session_goes_to_the_waiting_list(client, app, login):
    ids, teacher, coord = _setup()
    other = factories.teacher(factories.school(teacher.school.region))
    db.session.commit()
    login(other)
    client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM)
    client.post("/uitloggen")
    login(teacher)
    resp = client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data={**FORM, "waitlist": ""})
    assert resp.status_code == 409 and "Deze les is vol" in resp.text
    resp = client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM, follow_redirects=True)
    assert "wachtlijst" in resp.text


def test_other_roles_and_regions(client, app, login):
    ids, teacher, coord = _setup()
    stranger = factories.teacher(factories.school(factories.region()))
    db.session.commit()
    login(stranger)
    assert client.get(f"/boekingen/nieuw?session_id={ids['s1']}").status_code == 404
    client.post("/uitloggen")
    login(coord)
    assert client.get(f"/boekingen/nieuw?session_id={ids['s1']}").status_code == 403
    resp = client.get("/boekingen/")  # a coordinator's bookings are on the desk
    assert resp.status_code == 302 and resp.headers["Location"] == "/bureau/"


def test_coordinator_roster_move_capacity_cancel(client, app, login, mailbox, drain_outbox):
    ids, teacher, coord = _setup()
    login(teacher)
    client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM)
    client.post("/uitloggen")
    booking_id = db.session.scalar(select(Booking.id))
    login(coord)
    roster = client.get(f"/boekingen/les/{ids['s1']}")
    assert roster.status_code == 200 and "Eén leerling in een rolstoel" in roster.text
    client.post(f"/boekingen/{booking_id}/verplaatsen", data={"session_id": ids["s2"], "reason": "Lokaal bezet"})
    db.session.expire_all()
    assert db.session.get(Booking, booking_id).session_id == ids["s2"]
    assert (
        db.session.get(Session, ids["s1"]).booked_classes == 0
        and db.session.get(Session, ids["s2"]).booked_classes == 1
    )
    resp = client.post(
        f"/boekingen/les/{ids['s2']}/capaciteit",
        data={"capacity_pupils": "5", "capacity_classes": "1"},
        follow_redirects=True,
    )
    assert "lager kan niet" in resp.text
    client.post(f"/boekingen/les/{ids['s2']}/annuleren", data={"reason": "Docent ziek"})
    db.session.expire_all()
    assert db.session.get(Booking, booking_id).status == BookingStatus.CANCELLED
    drain_outbox()
    assert any("Geannuleerd" in m["Subject"] for m in mailbox)
