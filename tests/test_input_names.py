"""Names and header fields at the door (issue 14 item 9, issue 13 item 3): names are stored
in NFC without bidi overrides or zero-width characters; a line break in anything that ends
up in a mail header is refused (API: 422 naming the field; forms: a field error)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.booking.models import Booking
from app.extensions import db
from app.inputs import clean_name, content_disposition, email_problem, json_too_deep
from tests import factories


def test_clean_name_normalises_and_drops_invisible_characters():
    assert clean_name("Jan\u202e\u200bde\u200d Vries\u2066") == "Jande Vries"
    assert clean_name("Jose\u0301") == "Jos\u00e9"  # NFD to NFC
    assert clean_name("  Juf\tAns \ufeff") == "Juf Ans"
    assert clean_name("Ab\u00adcd\u2060") == "Abcd"


def test_email_problem_wants_exactly_one_address_on_one_line():
    assert email_problem("juf@school.nl") is None
    for bad in (
        "juf@school.nl\r\nBcc: x@evil.example",
        "a@b.nl, c@d.nl",
        "a@b.nl;c@d.nl",
        "Juf <a@b.nl>",
        "geen-adres",
        "a@@b.nl",
        "a@b.nl\n",
    ):
        assert email_problem(bad), bad


def test_content_disposition_keeps_the_header_latin_1():
    assert content_disposition("bus-2030.csv") == 'attachment; filename="bus-2030.csv"'
    value = content_disposition("bus-Ωmega\r\n.csv")
    value.encode("latin-1")
    assert "\r" not in value and "\n" not in value and "filename*=UTF-8''bus-%CE%A9mega.csv" in value


def test_json_depth_check_ignores_brackets_inside_strings():
    assert not json_too_deep('{"a": "' + "[" * 1000 + '"}')
    assert json_too_deep("[" * 33 + "]" * 33)
    assert not json_too_deep("[" * 32 + "]" * 32)


def _world():
    region = factories.region()
    lab = factories.venue(region)
    offer = factories.offer(region, lab, adults_per_class=1)
    session = factories.session(offer, datetime.now(timezone.utc) + timedelta(days=30))
    teacher = factories.teacher(factories.school(region))
    coordinator = factories.user("coordinator", region=region, venues=[lab])
    header = factories.auth_header(teacher)
    db.session.commit()
    return session.id, teacher, coordinator, header, offer.id


def _body(session_id, **kw):
    return {"session_id": session_id, "groep": "7", "pupils": 20, "adults": 2, **kw}


def test_api_refuses_line_breaks_and_lists_in_header_fields(client):
    session_id, _, _, header, _ = _world()
    for field, value in (
        ("contact_email", "juf@school.nl\r\nBcc: all@evil.example"),
        ("contact_email", "juf@school.nl, meester@school.nl"),
        ("contact_email", "geen adres"),
        ("contact_name", "Juf Ans\r\nBcc: all@evil.example"),
        ("contact_name", "Juf\x0bAns"),
    ):
        resp = client.post("/api/v1/bookings", headers=header, json=_body(session_id, **{field: value}))
        assert resp.status_code == 422, (field, value, resp.get_json())
        assert resp.mimetype == "application/problem+json" and resp.get_json()["field"] == field
    assert db.session.scalar(select(Booking.id)) is None  # nothing booked


def test_api_stores_names_normalised(client):
    session_id, _, _, header, _ = _world()
    resp = client.post(
        "/api/v1/bookings",
        headers=header,
        json=_body(session_id, contact_name="Jose\u0301 \u202emeester\u200b", contact_email="jose@school.nl"),
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["contact_name"] == "Jos\u00e9 meester"
    assert resp.get_json()["contact_email"] == "jose@school.nl"


def test_booking_form_refuses_line_breaks_in_contact_fields(client, login):
    session_id, teacher, _, _, _ = _world()
    login(teacher)
    base = {"groep": "7", "pupils": "20", "adults": "2", "contact_name": "Juf Ans", "contact_email": "juf@school.nl"}
    for field, value in (
        ("contact_email", "juf@school.nl\r\nBcc: all@evil.example"),
        ("contact_name", "Juf Ans\r\nBcc: all@evil.example"),
    ):
        resp = client.post(f"/boekingen/nieuw?session_id={session_id}", data={**base, field: value})
        assert resp.status_code == 422, field
        assert "regeleinden".encode() in resp.data or b"Geen geldig e-mailadres" in resp.data
    assert db.session.scalar(select(Booking.id)) is None
    resp = client.post(
        f"/boekingen/nieuw?session_id={session_id}", data={**base, "contact_name": "Juf\u202e Ans\u200d"}
    )
    assert resp.status_code == 302
    assert db.session.scalar(select(Booking.contact_name)) == "Juf Ans"


def test_offer_title_and_venue_name_forms(client, login):
    from app.labs.models import Offer, Venue

    _, _, coordinator, _, offer_id = _world()
    login(coordinator)
    offer = db.session.get(Offer, offer_id)
    data = {
        "title": "Robots\r\nBcc: x@evil.example",
        "kind": offer.kind.value,
        "world": offer.world.value,
        "venue_id": str(offer.venue_id),
        "school_year": str(offer.school_year),
        "groep_min": "5",
        "groep_max": "8",
        "duration_minutes": "120",
        "capacity_classes": "1",
        "capacity_pupils": "30",
        "adults_per_class": "1",
        "cancel_deadline_days": "14",
    }
    resp = client.post(f"/beheer/aanbod/{offer_id}", data=data)
    assert resp.status_code == 422 and "regeleinden".encode() in resp.data
    resp = client.post(f"/beheer/aanbod/{offer_id}", data={**data, "title": "Robots\u202e bouwen\u200b"})
    assert resp.status_code == 302, resp.data[-2000:]
    db.session.expire_all()
    assert db.session.get(Offer, offer_id).title == "Robots bouwen"
    venue = db.session.get(Venue, offer.venue_id)
    resp = client.post(
        "/beheer/locaties/nieuw",
        data={
            "kind": venue.kind.value,
            "name": "Lab\u2067 Noord\u2069",
            "postcode": "1234AB",
            "city": "Delft",
            "latitude": "52.0",
            "longitude": "4.36",
            "opening_days": ["1", "2"],
        },
    )
    assert resp.status_code == 302, resp.data[-2000:]
    assert db.session.scalar(select(Venue.name).where(Venue.name.like("Lab%Noord"))) == "Lab Noord"
