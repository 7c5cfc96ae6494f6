"""The rough edges of daily work (issue 16, point 1): attendance keeps what was recorded, staff
can be taken off a session and edited, kit states in words, the sessions list filters past and
future and selects all, a bulk capacity refusal names its date, an exception booking finds the
school by name, coordinators start at their desk, a cancelled session is no move target."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from app.booking import services as booking_services
from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.labs.models import Kit, KitLoan, Session, Staff, World
from tests import factories

NOW = datetime.now(timezone.utc)


def _world():
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(
        region, venue, groep_min=5, groep_max=8, capacity_classes=2, capacity_pupils=60, adults_per_class=0
    )
    past = factories.session(offer, NOW - timedelta(days=2))
    s1 = factories.session(offer, NOW + timedelta(days=20))
    s2 = factories.session(offer, NOW + timedelta(days=21))
    s3 = factories.session(offer, NOW + timedelta(days=22))
    school = factories.school(region, name="De Wegwijzer", city="Lichtenvoorde")
    teacher = factories.teacher(school)
    coord = factories.user("coordinator", region=region, venues=[venue])
    db.session.commit()
    return dict(
        region=region,
        venue=venue,
        offer=offer,
        past=past,
        s1=s1,
        s2=s2,
        s3=s3,
        school=school,
        teacher=teacher,
        coord=coord,
    )


def test_attendance_form_keeps_a_no_show(client, app, login):
    w = _world()
    b = Booking(
        session_id=w["past"].id,
        school_id=w["school"].id,
        status=BookingStatus.NO_SHOW,
        groep_min=7,
        groep_max=7,
        class_name="7",
        pupils=20,
        adults=1,
    )
    db.session.add(b)
    db.session.commit()
    login(w["coord"])
    page = client.get(f"/boekingen/les/{w['past'].id}").text
    assert '<option value="no_show" selected>' in page
    assert '<option value="attended" selected>' not in page


def test_cancelled_session_is_not_a_move_target(client, app, login):
    w = _world()
    booking_services.create_booking(w["teacher"], w["s1"].id, booking_services.ClassDetails(w["school"].id, "7", 20, 1))
    booking_services.cancel_session(w["coord"], w["s2"].id, "Storing")
    db.session.commit()
    login(w["coord"])
    page = client.get(f"/boekingen/les/{w['s1'].id}").text
    assert f'<option value="{w["s3"].id}">' in page and f'<option value="{w["s2"].id}">' not in page


def test_bulk_capacity_refusal_names_the_date(client, app, login):
    w = _world()
    booking_services.create_booking(w["teacher"], w["s2"].id, booking_services.ClassDetails(w["school"].id, "7", 20, 1))
    db.session.commit()
    login(w["coord"])
    resp = client.post(
        f"/beheer/aanbod/{w['offer'].id}/lessen",
        data={
            "session_id": [w["s1"].id, w["s2"].id],
            "action": "capacity",
            "capacity_pupils": "10",
            "capacity_classes": "1",
        },
        follow_redirects=True,
    )
    from app.timeutil import to_local

    assert f"Les van {to_local(w['s2'].starts_at):%d-%m-%Y %H:%M}" in resp.text


def test_sessions_list_past_future_and_select_all(client, app, login):
    w = _world()
    login(w["coord"])
    future = client.get(f"/beheer/aanbod/{w['offer'].id}/lessen").text
    assert f'id="s-{w["s1"].id}"' in future and f'id="s-{w["past"].id}"' not in future
    past = client.get(f"/beheer/aanbod/{w['offer'].id}/lessen?periode=verleden").text
    assert f'id="s-{w["past"].id}"' in past and f'id="s-{w["s1"].id}"' not in past
    everything = client.get(f"/beheer/aanbod/{w['offer'].id}/lessen?periode=alle&alle=1").text
    assert everything.count("checked>") == 4


def test_staff_can_be_taken_off_a_session_and_edited(client, app, login):
    w = _world()
    person = Staff(region_id=w["region"].id, name="Piet")
    db.session.add(person)
    db.session.commit()
    login(w["coord"])
    client.post(f"/beheer/les/{w['s1'].id}/medewerker", data={"staff_id": person.id})
    assert [p.name for p in db.session.get(Session, w["s1"].id).staff] == ["Piet"]
    client.post(f"/beheer/les/{w['s1'].id}/medewerker/verwijderen", data={"staff_id": person.id})
    db.session.expire_all()
    assert db.session.get(Session, w["s1"].id).staff == []
    client.post(f"/beheer/medewerkers/{person.id}", data={"name": "Piet de Vries", "email": "piet@lab.nl"})
    db.session.expire_all()
    p = db.session.get(Staff, person.id)
    assert (p.name, p.email, p.active) == ("Piet de Vries", "piet@lab.nl", False)


def test_kit_states_in_words(client, app, login):
    w = _world()
    kit = Kit(region_id=w["region"].id, title="Stroomkist", world=World.HITECH_SCIENCE, stock=2)
    db.session.add(kit)
    db.session.flush()
    db.session.add(
        KitLoan(
            kit_id=kit.id,
            school_id=w["school"].id,
            starts_on=date.today() + timedelta(days=3),
            ends_on=date.today() + timedelta(days=10),
            booked_by_id=w["teacher"].id,
        )
    )
    db.session.commit()
    login(w["coord"])
    page = client.get("/beheer/leskisten").text
    assert "Gereserveerd" in page and ">reserved" not in page


def test_exception_booking_finds_the_school_by_name(client, app, login):
    w = _world()
    login(w["coord"])
    page = client.get(f"/boekingen/les/{w['s1'].id}").text
    assert f"De Wegwijzer — Lichtenvoorde ({w['school'].location_code})" in page
    resp = client.post(
        f"/boekingen/les/{w['s1'].id}/uitzondering",
        data={"school_code": "de wegwijzer", "groep": "7", "pupils": "20", "adults": "1", "reason": "Afspraak"},
        follow_redirects=True,
    )
    assert "De Wegwijzer is geboekt" in resp.text
    assert db.session.query(Booking).filter_by(session_id=w["s1"].id).count() == 1


def test_coordinator_lands_on_the_desk(client, app):
    w = _world()
    resp = client.post("/inloggen", data={"email": w["coord"].email, "password": factories.PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/bureau/"
    other = app.test_client()
    resp = other.post("/inloggen", data={"email": w["teacher"].email, "password": factories.PASSWORD})
    assert resp.headers["Location"] == "/"
