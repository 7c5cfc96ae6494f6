"""Input at the door (issue 14, item 7): the requests that answered 500 on PostgreSQL —
64-bit ids, dates in year 1 or 9999, a carrier name outside Latin-1 in a file name, a
move to session "abc", deeply nested JSON — answer 4xx (or a page), never a 5xx.
Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from tests import factories

HUGE = "9223372036854775808"
TINY = "-9223372036854775809"
INT32 = "2147483648"


def _world():
    from app.booking.services import create_booking

    now = datetime.now(timezone.utc)
    region = factories.region()
    lab, hotspot = factories.venue(region), factories.venue(region, name="Kwekerij")
    offer = factories.offer(region, lab, adults_per_class=1)
    session = factories.session(offer, now + timedelta(days=30))
    factories.session(offer, now + timedelta(days=40))
    series = factories.series_offer(region, lab, hotspot)
    school = factories.school(region)
    teacher = factories.teacher(school)
    booking = create_booking(teacher, session.id, factories_details(school, teacher))
    users = {
        "teacher": teacher,
        "coordinator": factories.user("coordinator", region=region, venues=[lab, hotspot]),
        "programme_leader": factories.user("programme_leader", region=region),
        "admin": factories.user("admin"),
    }
    db.session.commit()
    return {"users": users, "booking": booking.id, "series": series.id, "lab": lab.id, "session": session.id}


def factories_details(school, teacher):
    from app.booking.services import ClassDetails

    return ClassDetails(
        school_id=school.id, groep="6", pupils=20, adults=2, contact_name="Juf Ans", contact_email=teacher.email
    )


# (role, method, path or a function of the world, form data) — every one of them once answered 500
CASES = [
    (None, "GET", f"/aanbod/?region={TINY}", None),
    ("admin", "GET", f"/aanbod/?region={TINY}", None),
    ("admin", "GET", f"/aanbod/?region={HUGE}", None),
    ("teacher", "GET", f"/boekingen/nieuw?session_id={TINY}", None),
    ("teacher", "GET", f"/boekingen/nieuw?session_id={HUGE}", None),
    ("teacher", "GET", f"/boekingen/reeks?offer_id={TINY}", None),
    ("teacher", "GET", f"/boekingen/reeks?offer_id={HUGE}", None),
    ("admin", "GET", f"/regiobeheer/gebruikers?region={TINY}", None),
    ("admin", "GET", f"/regiobeheer/gebruikers?region={HUGE}&school={HUGE}", None),
    ("admin", "GET", f"/vervoer/?regio={INT32}", None),
    ("admin", "GET", f"/vervoer/?regio={TINY}", None),
    (None, "GET", "/aanbod/?date_from=0001-01-01", None),
    (None, "GET", "/aanbod/?date_from=9999-12-31&date_to=9999-12-31", None),
    ("coordinator", "GET", "/vervoer/?datum=0001-01-01", None),
    ("coordinator", "GET", "/vervoer/?datum=9999-12-31", None),
    ("coordinator", "GET", "/beheer/agenda?date=0001-01-01", None),
    ("coordinator", "GET", "/beheer/agenda?date=9999-12-31&view=month", None),
    ("coordinator", "GET", lambda w: f"/beheer/dagoverzicht/{w['lab']}/9999-12-31", None),
    ("coordinator", "GET", "/vervoer/bestelling/9999-12-31", None),
    ("coordinator", "GET", "/vervoer/bestelling/2030-01-07.csv?vervoerder=Автобус Ωmega 東京", None),
    ("coordinator", "POST", lambda w: f"/boekingen/{w['booking']}/verplaatsen", {"session_id": "abc", "reason": "x"}),
    ("coordinator", "POST", lambda w: f"/boekingen/{w['booking']}/verplaatsen", {"session_id": HUGE, "reason": "x"}),
]

API_CASES = [
    ("teacher", "/api/v1/sessions?from=0001-01-01"),
    ("teacher", "/api/v1/sessions?from=9999-12-31T23:59:59&to=9999-12-31"),
    ("coordinator", "/api/v1/transport/plans?date=0001-01-01"),
    ("coordinator", "/api/v1/transport/plans?date=9999-12-31"),
    ("admin", f"/api/v1/transport/plans?date=2030-01-07&region={HUGE}"),
]


def test_page_requests_that_were_500(app):
    world = _world()
    failures = []
    for role in (None, "teacher", "coordinator", "admin"):
        client = app.test_client()
        if role:
            resp = client.post("/inloggen", data={"email": world["users"][role].email, "password": factories.PASSWORD})
            assert resp.status_code == 302
        for case_role, method, path, data in CASES:
            if case_role != role:
                continue
            path = path(world) if callable(path) else path
            resp = client.open(path, method=method, data=data)
            if resp.status_code >= 500 or b"Traceback" in resp.data:
                failures.append((role, method, path, resp.status_code))
    assert not failures


def test_the_page_cases_answer_what_they_are(client, login):
    world = _world()
    login(world["users"]["teacher"])
    assert client.get(f"/boekingen/nieuw?session_id={TINY}").status_code == 404
    assert client.get(f"/boekingen/reeks?offer_id={HUGE}").status_code == 404
    login(world["users"]["coordinator"])
    assert client.get("/vervoer/?datum=0001-01-01").status_code == 400
    assert client.get("/beheer/agenda?date=9999-12-31").status_code == 400
    resp = client.get("/vervoer/bestelling/2030-01-07.csv?vervoerder=Автобус Ωmega")
    assert resp.status_code == 200
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "filename*=UTF-8''busbestelling-2030-01-07-%D0%B0%D0%B2%D1%82%D0%BE%D0%B1%D1%83%D1%81" in disposition
    disposition.encode("latin-1")  # the header itself stays Latin-1
    resp = client.post(f"/boekingen/{world['booking']}/verplaatsen", data={"session_id": "abc", "reason": "x"})
    assert resp.status_code == 302


def test_api_requests_that_were_500(client):
    world = _world()
    headers = {role: factories.auth_header(user) for role, user in world["users"].items()}
    db.session.commit()
    for role, path in API_CASES:
        resp = client.get(path, headers=headers[role])
        assert resp.status_code in (400, 404, 422), (path, resp.status_code, resp.data[:300])
        assert resp.mimetype == "application/problem+json"
        if resp.status_code == 422:
            assert resp.get_json()["field"] in ("from", "to", "date", "region")


@pytest.mark.parametrize("path", ["/api/v1/bookings", "/api/v1/series-bookings", "/api/v1/auth/token"])
def test_deeply_nested_json_is_a_bad_request_before_any_sign_in(client, path):
    body = "[" * 7000 + "]" * 7000  # deep enough for a RecursionError, small enough for every body limit
    resp = client.post(path, data=body, content_type="application/json")
    assert resp.status_code == 400, resp.data[:300]
    assert resp.mimetype == "application/problem+json"
    body = '{"a":' * 2500 + "1" + "}" * 2500
    assert client.post(path, data=body, content_type="application/json").status_code == 400


def test_json_of_ordinary_depth_still_reads(client):
    world = _world()
    header = factories.auth_header(world["users"]["teacher"])
    db.session.commit()
    resp = client.post(
        "/api/v1/bookings",
        headers=header,
        json={
            "session_id": world["session"],
            "groep": "7",
            "pupils": 20,
            "adults": 2,
            "remarks": '[{"not": [nested]}]',
            "extra": {"a": [{"b": [1, 2, {"c": "]]]]"}]}]},
        },
    )
    assert resp.status_code in (201, 409, 422), resp.get_json()
