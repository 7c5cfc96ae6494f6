"""Coordinator pages, orders, the teacher's view and the JSON API of bus plans."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.booking.models import Booking
from app.extensions import db
from app.timeutil import to_local
from app.transport.models import Bus, BusPlan
from tests import factories
from tests.transport.conftest import book, school_at


def _setup(transport):
    region, session = transport["region"], transport["session"]
    pairs = [school_at(region, 9 + i, east=0.01 * i, name=f"Basisschool De Bolster {i}") for i in range(3)]
    bookings = [book(t, s, session, pupils=12, adults=1) for s, t in pairs]
    db.session.expire_all()
    plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == session.id))
    return pairs, bookings, plan, to_local(session.starts_at).date().isoformat()


def test_the_plan_of_a_day_with_map_and_orders(transport, client, login):
    pairs, bookings, plan, day = _setup(transport)
    login(transport["coord"])
    page = client.get(f"/vervoer/?datum={day}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Basisschool De Bolster 0" in html and "<svg" in html and "polyline" in html
    assert "Touringcar 50" in html and "39 van 50 plaatsen" in html
    csv_resp = client.get(f"/vervoer/bestelling/{day}.csv")
    text = csv_resp.get_data(as_text=True)
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    assert text.lstrip("\ufeff").startswith("datum;vervoerder;bus") and text.count("Basisschool De Bolster") == 3
    assert client.get(f"/vervoer/bestelling/{day}.csv?vervoerder=Taxi+Oost").get_data(as_text=True).count("\n") == 1
    printable = client.get(f"/vervoer/bestelling/{day}?vervoerder=Achterhoek+Tours")
    assert printable.status_code == 200 and "Achterhoek Tours" in printable.get_data(as_text=True)
    assert client.get("/vervoer/?datum=gisteren").status_code == 400


def test_lock_and_move_from_the_page(transport, client, login):
    pairs, bookings, plan, day = _setup(transport)
    bus = plan.buses[0]
    stop = bus.stops[0]
    login(transport["coord"])
    resp = client.post(f"/vervoer/halte/{stop.id}/verplaatsen", data={"target": f"type:{transport['mini'].id}"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert len(db.session.scalars(select(Bus)).all()) == 2
    resp = client.post(f"/vervoer/bus/{bus.id}/vergrendelen", data={"value": "1"})
    assert resp.status_code == 302 and db.session.get(Bus, bus.id).locked
    from app.transport.models import BusStop

    current = db.session.scalars(select(BusStop)).first()
    assert client.post(f"/vervoer/halte/{current.id}/verplaatsen", data={"target": "nonsense"}).status_code == 302


def test_teachers_see_their_pickup_and_may_decline(transport, client, login):
    pairs, bookings, plan, day = _setup(transport)
    school, teacher = pairs[0]
    login(teacher)
    html = client.get(f"/boekingen/{bookings[0].id}").get_data(as_text=True)
    assert "Bus geregeld" in html and "ophalen om" in html and school.address in html
    assert client.get(f"/vervoer/?datum={day}").status_code == 403
    resp = client.post(f"/vervoer/boeking/{bookings[0].id}/bus", data={"value": "1"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, bookings[0].id).bus_declined
    assert "Eigen vervoer" in client.get(f"/boekingen/{bookings[0].id}").get_data(as_text=True)
    other = pairs[1][0]
    assert client.post(f"/vervoer/boeking/{bookings[1].id}/bus", data={"value": "1"}).status_code in (403, 404)
    assert other  # (another school's booking is not this teacher's)


def test_ical_shows_pickup_time_and_place(transport, client, login):
    pairs, bookings, plan, day = _setup(transport)
    school, teacher = pairs[1]
    login(teacher)
    ics = client.get(f"/agenda/boeking/{bookings[1].id}.ics")
    if ics.status_code == 404:  # the calendar route name differs: use the helper directly
        from app.booking.ical import booking_event
        from app.booking.notify import pickup_time

        b = db.session.get(Booking, bookings[1].id)
        text = booking_event(b, "http://x", pickup_time(b)).to_ical().decode().replace("\r\n ", "")
    else:
        text = ics.get_data(as_text=True).replace("\r\n ", "")
    assert "Bus: ophalen om" in text and school.name in text


def test_api_plans_of_a_day(transport, client):
    pairs, bookings, plan, day = _setup(transport)
    headers = factories.auth_header(transport["coord"])
    db.session.commit()
    resp = client.get(f"/api/v1/transport/plans?date={day}", headers=headers)
    assert resp.status_code == 200
    data = resp.get_json()
    [p] = data["plans"]
    [bus] = p["buses"]
    assert bus["type"]["name"] == "Touringcar 50" and bus["seats"] == 50 and bus["seats_taken"] == 39
    assert [s["position"] for s in bus["stops"]] == [1, 2, 3]
    assert {s["booking_id"] for s in bus["stops"]} == {b.id for b in bookings}
    assert all(s["pickup_at"] < bus["arrives_at"] for s in bus["stops"]) and bus["arrives_at"] < p["starts_at"]
    bad = client.get("/api/v1/transport/plans?date=morgen", headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    teacher_headers = factories.auth_header(pairs[0][1])
    db.session.commit()
    assert client.get(f"/api/v1/transport/plans?date={day}", headers=teacher_headers).status_code == 403
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/transport/plans" in doc["paths"] and "BusPlan" in doc["components"]["schemas"]


def test_road_distance_page(transport, client, login):
    region = transport["region"]
    school, _t = school_at(region, 3)
    db.session.commit()
    login(transport["coord"])
    assert client.get("/vervoer/afstanden").status_code == 200
    resp = client.post(
        "/vervoer/afstanden",
        data={
            "action": "one",
            "one-school": school.location_code,
            "one-venue": transport["venue"].id,
            "one-km": "7.5",
            "one-minutes": "12",
        },
    )
    assert resp.status_code == 302
    html = client.get("/vervoer/afstanden").get_data(as_text=True)
    assert school.name in html and "7.5" in html
    bad = client.post(
        "/vervoer/afstanden",
        data={"action": "one", "one-school": "ZZZZ99", "one-venue": transport["venue"].id, "one-km": "7"},
    )
    assert bad.status_code == 422 and "hoort niet bij uw regio" in bad.get_data(
        as_text=True
    )  # re-shown with the error, as every refused form


def test_a_pending_replan_is_shown_to_the_coordinator_and_the_teacher(transport, client, login):
    pairs, bookings, plan, day = _setup(transport)
    login(transport["coord"])
    assert "wordt opnieuw gepland" not in client.get(f"/vervoer/?datum={day}").text
    s4, t4 = school_at(transport["region"], 11, east=0.002)
    book(t4, s4, transport["session"], pupils=12, adults=1, replan=False)  # the worker has not been yet
    assert "wordt opnieuw gepland" in client.get(f"/vervoer/?datum={day}").text
    client.post("/uitloggen")
    login(pairs[0][1])
    page = client.get(f"/boekingen/{bookings[0].id}").text
    assert "Bus: wordt gepland" in page and "ophalen om" not in page
    from tests.transport.conftest import drain

    drain()
    page = client.get(f"/boekingen/{bookings[0].id}").text
    # "Bus geregeld: ophalen om …", not "Bus geregeld: Bus: ophalen om …" (issue 17)
    assert "Bus: wordt gepland" not in page and "ophalen om" in page and "Bus: ophalen om" not in page


def test_warnings_and_the_shortfall_on_the_page_and_in_the_api(transport, client, login):
    from tests.transport.conftest import short_day

    named, later, plan = short_day(transport)
    day = to_local(transport["session"].starts_at).date().isoformat()
    login(transport["coord"])
    html = client.get(f"/vervoer/?datum={day}").get_data(as_text=True)
    for code in ("ride_over_limit", "no_bus", "implausible_coordinates", "no_coordinates"):
        assert f'data-code="{code}"' in html, code
    assert "Basisschool Achteraan (30 plaatsen) heeft geen bus" in html
    assert "Een extra Touringcar 50 huren voor deze dag (€ 240.00 per rit)" in html and "te controleren" in html
    headers = factories.auth_header(transport["coord"])
    db.session.commit()
    data = client.get(f"/api/v1/transport/plans?date={day}", headers=headers).get_json()
    codes = {w["code"] for p in data["plans"] for w in p["warnings"]}
    assert {"ride_over_limit", "no_bus", "implausible_coordinates", "no_coordinates"} <= codes
    short = next(w for p in data["plans"] for w in p["warnings"] if w["code"] == "no_bus")
    assert short["booking_id"] == named["late"].id and {c["code"] for c in short["choices"]} == {
        "hire",
        "move_session",
        "ask_school",
    }
    assert all(p["to_check"] for p in data["plans"] if p["warnings"])
    for p in data["plans"]:
        if p["warnings"]:
            assert client.post(f"/vervoer/plan/{p['id']}/waarschuwingen-gezien").status_code == 302
    data = client.get(f"/api/v1/transport/plans?date={day}", headers=headers).get_json()
    assert not any(p["to_check"] for p in data["plans"]) and all(p["warnings_seen"] for p in data["plans"])
    assert "Ik heb het gezien" not in client.get(f"/vervoer/?datum={day}").get_data(as_text=True)


def test_a_far_school_hears_its_bus_in_mail_and_calendar_from_pickup_to_return(transport, client, login, mailbox):
    from icalendar import Calendar

    from app.transport import pickups

    region, session = transport["region"], transport["session"]
    school, teacher = school_at(region, 25, name="Basisschool Verre Velden")
    mailbox.clear()
    b = book(teacher, school, session)
    db.session.expire_all()
    booking = db.session.get(Booking, b.id)
    pickup, back = pickups.pickup_time(booking), pickups.return_times([booking])[booking.id]
    assert pickup < session.starts_at - timedelta(minutes=15) and back > session.ends_at
    # the confirmation waited for the session's re-plan: it carries the bus itself, and no second mail follows
    confirm = next(m for m in mailbox if m["Subject"].startswith("Bevestiging"))
    body = confirm.get_body(("plain",)).get_content()
    assert "wordt gepland" not in body
    assert f"ophalen om {to_local(pickup):%H:%M}" in body and f"Terug bij school rond {to_local(back):%H:%M}" in body
    assert not [m for m in mailbox if m["Subject"].startswith("Busvervoer")]
    ics = next(p for p in confirm.iter_attachments() if p.get_filename().endswith(".ics"))
    [event] = Calendar.from_ical(ics.get_content()).walk("VEVENT")
    assert event.decoded("dtstart") == pickup and event.decoded("dtend") == back
    assert f"Bus: ophalen om {to_local(pickup):%H:%M} bij Basisschool Verre Velden" in str(event["description"])
    login(teacher)
    page = client.get(f"/boekingen/{b.id}").get_data(as_text=True)
    assert f"Terug bij school rond {to_local(back):%H:%M}" in page
    feed = client.get(f"/agenda/boeking/{b.id}.ics")
    if feed.status_code == 200:
        [event] = Calendar.from_ical(feed.get_data()).walk("VEVENT")
        assert event.decoded("dtstart") == pickup
    # cancelled: the mail has no bus line
    mailbox.clear()
    from app.booking.services import cancel_booking

    cancel_booking(teacher, b.id)
    db.session.commit()
    from tests.transport.conftest import drain

    drain()
    body = next(m for m in mailbox if m["Subject"].startswith("Geannuleerd")).get_body(("plain",)).get_content()
    assert "Bus:" not in body and "ophalen" not in body
