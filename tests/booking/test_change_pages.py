"""Pages of issue 17: the cancel confirmation, the change page, the coordinator's requests, the offer settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Offer, Session
from tests import factories

NOW = datetime.now(timezone.utc)
FORM = {"groep": "7", "pupils": "24", "adults": "2", "contact_name": "Juf Anna", "contact_email": "anna@school.nl"}


def _setup(**offer_kw):
    region = factories.region()
    venue = factories.venue(region, contact_name="Piet Lab", contact_email="piet@techlab.nl", contact_phone="010 1234")
    offer = factories.offer(
        region, venue, groep_min=6, groep_max=8, capacity_classes=2, capacity_pupils=60, adults_per_class=1, **offer_kw
    )
    s1 = factories.session(offer, NOW + timedelta(days=30))
    school, other = factories.school(region), factories.school(region)
    teacher, teacher2 = factories.teacher(school), factories.teacher(other)
    coord = factories.user("coordinator", region=region, venues=[venue])
    db.session.commit()
    return dict(s1=s1.id, offer=offer.id), teacher, teacher2, coord


def test_cancel_asks_first_and_says_what_happens_to_the_place(client, app, login):
    ids, teacher, teacher2, coord = _setup()
    login(teacher)
    client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM)
    booking = db.session.scalars(select(Booking)).one()
    detail = client.get(f"/boekingen/{booking.id}")
    assert f'href="/boekingen/{booking.id}/annuleren"' in detail.text  # a link to the confirmation, not a form
    page = client.get(f"/boekingen/{booking.id}/annuleren")
    assert page.status_code == 200 and "Boeking annuleren?" in page.text
    assert "andere scholen kunnen hem boeken" in page.text and "Ja, annuleren" in page.text
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED  # asking changed nothing
    assert client.post(f"/boekingen/{booking.id}/annuleren").status_code == 302
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED


def test_cancel_page_names_the_waiting_list_and_inside_the_deadline_the_lab_contact(client, app, login):
    ids, teacher, teacher2, coord = _setup(cancel_deadline_days=14)
    session = db.session.get(Session, ids["s1"])
    session.capacity_classes = 1
    db.session.commit()
    login(teacher2)
    client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM)
    client.post("/uitloggen")
    login(teacher)
    client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data={**FORM, "waitlist": "y"})
    client.post("/uitloggen")
    login(teacher2)
    booking = db.session.scalars(select(Booking).where(Booking.status == BookingStatus.CONFIRMED)).one()
    page = client.get(f"/boekingen/{booking.id}/annuleren")
    assert "volgende klas op de wachtlijst" in page.text
    db.session.get(Offer, ids["offer"]).cancel_deadline_days = 40
    db.session.commit()
    late = client.get(f"/boekingen/{booking.id}/annuleren")
    assert "annuleringstermijn is verstreken" in late.text and "Ja, annuleren" not in late.text
    assert "piet@techlab.nl" in late.text and "010 1234" in late.text and "Piet Lab" in late.text
    assert "piet@techlab.nl" in client.get(f"/boekingen/{booking.id}").text


def test_change_page_changes_pupils_and_puts_refusals_back(client, app, login, mailbox, drain_outbox):
    ids, teacher, teacher2, coord = _setup(change_deadline_days=7)
    login(teacher)
    client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM)
    booking = db.session.scalars(select(Booking)).one()
    drain_outbox()
    page = client.get(f"/boekingen/{booking.id}/wijzigen")
    assert page.status_code == 200 and 'value="24"' in page.text and "Wijzigen kan tot" in page.text
    too_many = client.post(f"/boekingen/{booking.id}/wijzigen", data={**FORM, "pupils": "61"})
    assert too_many.status_code == 422
    full = client.post(f"/boekingen/{booking.id}/wijzigen", data={**FORM, "pupils": "40", "groep": "5"})
    assert full.status_code == 422 and "Dit aanbod is voor groep 6 tot en met 8" in full.text
    resp = client.post(f"/boekingen/{booking.id}/wijzigen", data={**FORM, "pupils": "28"})
    assert resp.status_code == 302
    db.session.refresh(booking)
    assert booking.pupils == 28 and db.session.get(Session, ids["s1"]).booked_pupils == 28
    drain_outbox()
    changed = [m for m in mailbox if m["Subject"].startswith("Boeking gewijzigd")]
    assert len(changed) == 1 and "24 → 28" in changed[0].get_body(("plain",)).get_content()


def test_after_the_change_deadline_the_page_names_whom_to_contact(client, app, login):
    ids, teacher, teacher2, coord = _setup(change_deadline_days=40)
    login(teacher)
    client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM)
    booking = db.session.scalars(select(Booking)).one()
    assert "/wijzigen" not in client.get(f"/boekingen/{booking.id}").text
    page = client.get(f"/boekingen/{booking.id}/wijzigen")
    assert "Wijzigen via de website kan niet meer" in page.text and "piet@techlab.nl" in page.text
    resp = client.post(f"/boekingen/{booking.id}/wijzigen", data={**FORM, "pupils": "20"})
    assert resp.status_code == 422
    db.session.refresh(booking)
    assert booking.pupils == 24


def test_requests_page_shows_competing_requests_and_answers_them(client, app, login, mailbox, drain_outbox):
    ids, teacher, teacher2, coord = _setup(approval_required=True)
    for t in (teacher, teacher2):
        login(t)
        resp = client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM, follow_redirects=True)
        assert "Uw aanvraag is verstuurd" in resp.text and "Aangevraagd" in resp.text
        client.post("/uitloggen")
    drain_outbox()
    assert any(m["Subject"].startswith("Nieuwe aanvraag") and coord.email in m["To"] for m in mailbox)
    first, second = db.session.scalars(select(Booking).order_by(Booking.id)).all()
    login(coord)
    page = client.get("/boekingen/aanvragen")
    assert page.status_code == 200 and page.text.count("Goedkeuren") == 2
    assert "Andere klassen in deze les" in page.text and "Aangevraagd: wacht op goedkeuring" in page.text
    client.post(f"/boekingen/{first.id}/goedkeuren")
    client.post(f"/boekingen/{second.id}/afwijzen", data={"reason": ""})  # a reason is required
    db.session.refresh(second)
    assert second.status == BookingStatus.REQUESTED
    client.post(f"/boekingen/{second.id}/afwijzen", data={"reason": "Groep 8 gaat voor"})
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == BookingStatus.CONFIRMED and second.status == BookingStatus.CANCELLED
    drain_outbox()
    subjects = [m["Subject"] for m in mailbox]
    assert any(s.startswith("Goedgekeurd en bevestigd") for s in subjects)
    assert any(s.startswith("Aanvraag afgewezen") for s in subjects)
    assert "Er wachten geen aanvragen" in client.get("/boekingen/aanvragen").text


def test_requests_are_answered_from_the_roster_too(client, app, login):
    ids, teacher, teacher2, coord = _setup(approval_required=True)
    for t in (teacher, teacher2):
        login(t)
        client.post(f"/boekingen/nieuw?session_id={ids['s1']}", data=FORM)
        client.post("/uitloggen")
    first, second = db.session.scalars(select(Booking).order_by(Booking.id)).all()
    login(coord)
    roster = f"/boekingen/les/{ids['s1']}"
    page = client.get(roster)
    assert page.text.count(">Goedkeuren<") == 2 and f'id="decline-reason-{second.id}"' in page.text
    resp = client.post(f"/boekingen/{first.id}/goedkeuren", data={"next": roster})
    assert resp.status_code == 302 and resp.headers["Location"] == roster  # back on the roster
    resp = client.post(f"/boekingen/{second.id}/afwijzen", data={"reason": "Vol", "next": "https://elders.example/"})
    assert resp.headers["Location"] == "/boekingen/aanvragen"  # never off the site
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == BookingStatus.CONFIRMED and second.status == BookingStatus.CANCELLED
    assert ">Goedkeuren<" not in client.get(roster).text


def test_coordinator_sets_the_offer_settings(client, app, login):
    ids, teacher, teacher2, coord = _setup()
    login(coord)
    page = client.get(f"/beheer/aanbod/{ids['offer']}")
    assert page.status_code == 200 and "approval_required" in page.text
    offer = db.session.get(Offer, ids["offer"])
    form = {
        "title": offer.title,
        "kind": offer.kind.value,
        "world": offer.world.value,
        "venue_id": str(offer.venue_id),
        "school_year": str(offer.school_year),
        "groep_min": "6",
        "groep_max": "8",
        "duration_minutes": "120",
        "capacity_classes": "2",
        "capacity_pupils": "60",
        "adults_per_class": "1",
        "cancel_deadline_days": "14",
        "booking_horizon_weeks": "8",
        "min_notice_days": "14",
        "change_deadline_days": "7",
        "approval_required": "y",
        "bus_provided": "y",
    }
    resp = client.post(f"/beheer/aanbod/{ids['offer']}", data=form)
    assert resp.status_code == 302, resp.text[:2000]
    db.session.refresh(offer)
    assert (
        offer.booking_horizon_weeks,
        offer.min_notice_days,
        offer.change_deadline_days,
        offer.approval_required,
    ) == (8, 14, 7, True)
    bad = client.post(f"/beheer/aanbod/{ids['offer']}", data={**form, "booking_horizon_weeks": "1"})
    assert bad.status_code == 422 and "boekingshorizon" in bad.text
