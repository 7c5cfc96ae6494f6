"""What a teacher reads: filters kept when one is wrong, Dutch numbers and plurals, the
mobile lab without a distance, the calendar in words, the booking inside the cancellation period."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask_babel import force_locale

from app.booking.ical import booking_event
from app.booking.services import ClassDetails, create_booking
from app.extensions import db
from app.formats import classes, km, places, pupils
from app.labs.models import OfferKind, PartLocation
from tests import factories

NOW = datetime.now(timezone.utc)


def _world():
    region = factories.region()
    school = factories.school(region, latitude=51.9662, longitude=6.2913)
    near = factories.venue(region, name="Dichtbij", latitude=51.9536, longitude=6.3216)  # ~3 km
    far = factories.venue(region, name="Ver", latitude=51.9712, longitude=6.7234)  # ~38 km
    o_near = factories.offer(region, near, title="Dichtbij 6-8", groep_min=6, groep_max=8, adults_per_class=1)
    o_far = factories.offer(region, far, title="Ver 6-8", groep_min=6, groep_max=8)
    mobile = factories.offer(region, None, title="TechMobiel", kind=OfferKind.MOBILE_LAB, groep_min=5, groep_max=8)
    o_low = factories.offer(region, near, title="Dichtbij 3-4", groep_min=3, groep_max=4)
    for o in (o_near, o_far, o_low):
        factories.session(o, NOW + timedelta(days=20))
    factories.session(mobile, NOW + timedelta(days=20), location=PartLocation.AT_SCHOOL)
    teacher = factories.teacher(school)
    db.session.commit()
    return teacher, o_near, mobile


def test_dutch_numbers_and_plurals(app):
    with force_locale("nl"):
        assert km(1.44) == "1,4 km" and km(12) == "12,0 km"
        assert pupils(1) == "1 leerling" and pupils(2) == "2 leerlingen"
        assert classes(1) == "1 klas" and classes(2) == "2 klassen"
    region = factories.region()
    offer = factories.offer(region, factories.venue(region), capacity_pupils=30, capacity_classes=2)
    s = factories.session(offer, NOW + timedelta(days=5))
    s.booked_pupils, s.booked_classes = 13, 2
    with force_locale("nl"):
        assert places(s) == "Vol"  # never "17 leerlingen, 0 klassen — Vol"
        s.booked_pupils, s.booked_classes = 13, 1
        assert places(s) == "plaats voor 1 klas, tot 17 leerlingen"


def test_a_bad_filter_keeps_the_others_and_says_what_is_wrong(app, client, login):
    teacher, *_ = _world()
    login(teacher)
    page = client.get("/aanbod/?groep=7&max_km=abc")
    assert page.status_code == 200
    assert 'aria-invalid="true"' in page.text and "Dichtbij 6-8" in page.text and "Dichtbij 3-4" not in page.text
    page = client.get("/aanbod/?groep=7&max_km=7,5")  # the Dutch decimal comma
    assert "Dichtbij 6-8" in page.text and "Ver 6-8" not in page.text and "aria-invalid" not in page.text
    assert "km van uw school" in page.text and "0.0 km" not in page.text and "0,0 km" not in page.text
    assert "komt naar uw school" in page.text
    # the groep goes along to the offer page and the booking form
    assert "groep=7" in page.text


def test_groep_list_is_the_offers_and_carried_from_the_catalogue(app, client, login):
    teacher, o_near, _mobile = _world()
    login(teacher)
    s = o_near.id
    session_id = db.session.scalars(db.select(factories.Session.id).where(factories.Session.offer_id == s)).one()
    form = client.get(f"/boekingen/nieuw?session_id={session_id}&groep=7")
    assert '<option selected value="7">7</option>' in form.text
    assert '<option value="1">' not in form.text and '<option value="5">' not in form.text
    assert '<option value="6/7">' in form.text and '<option value="7/8">' in form.text


def test_booking_inside_the_cancellation_period_is_announced(app, client, login, mailbox, drain_outbox):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, adults_per_class=1, cancel_deadline_days=14)
    soon = factories.session(offer, NOW + timedelta(days=5))
    school = factories.school(region)
    teacher = factories.teacher(school)
    db.session.commit()
    login(teacher)
    form = client.get(f"/boekingen/nieuw?session_id={soon.id}")
    assert "binnen de annuleringstermijn" in form.text
    resp = client.post(
        f"/boekingen/nieuw?session_id={soon.id}",
        data={"groep": "7", "pupils": "20", "adults": "2", "contact_name": "Juf", "contact_email": "juf@example.org"},
    )
    assert resp.status_code == 302
    drain_outbox()
    mail = [m for m in mailbox if m["Subject"].startswith("Bevestiging")][0]
    body = mail.get_body(("plain",)).get_content()
    assert "Annuleren kan tot 14 dagen" not in body and "binnen de annuleringstermijn geboekt" in body
    assert "20 leerlingen, 2 begeleiders" in body


def test_calendar_description_in_words(app):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, adults_per_class=1)
    s = factories.session(offer, NOW + timedelta(days=30))
    school = factories.school(region)
    b = create_booking(factories.teacher(school), s.id, ClassDetails(school.id, "7", 1, 1, "Juf", "j@example.org"))
    text = str(booking_event(b, "http://example.org").get("description"))
    assert "Status:" not in text and "Uw boeking is bevestigd." in text
    assert "1 leerling, 1 begeleider." in text
