"""Inputs the fuzzer found answered with a 500 (on PostgreSQL) or accepted silently, now
answered as what they are. Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.extensions import db
from tests import factories


def _teacher_and_session():
    region = factories.region()
    offer = factories.offer(region, factories.venue(region), adults_per_class=1)
    session = factories.session(offer, datetime.now(timezone.utc) + timedelta(days=30))
    teacher = factories.teacher(factories.school(region))
    header = factories.auth_header(teacher)
    db.session.commit()
    return header, session.id, teacher


def test_ids_beyond_the_database_range_are_not_found(client, login):
    header, _, teacher = _teacher_and_session()
    for path in ("/api/v1/bookings/20525520981", "/api/v1/offers/99999999999", "/api/v1/schools/2147483648"):
        resp = client.get(path, headers=header)
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json", path
    resp = client.get("/api/v1/sessions?offer=99999999999", headers=header)
    assert resp.status_code == 422 and resp.get_json()["field"] == "offer"
    login(teacher)
    assert client.get("/boekingen/20525520981").status_code == 404
    assert client.get("/boekingen/nieuw?session_id=20525520981").status_code == 404


def test_nul_characters_are_a_bad_request(client):
    header, session_id, _ = _teacher_and_session()
    resp = client.get("/api/v1/schools?q=a%00b", headers=header)
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    resp = client.post(
        "/api/v1/bookings",
        headers=header,
        json={"session_id": session_id, "groep": "7", "pupils": 20, "adults": 2, "remarks": "rolstoel\x00"},
    )
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert client.get("/aanbod/?q=%00").status_code == 400


def test_whole_numbers_in_json_may_be_written_as_24_0(client):
    header, session_id, _ = _teacher_and_session()
    resp = client.post(
        "/api/v1/bookings",
        headers=header,
        json={"session_id": float(session_id), "groep": 7.0, "pupils": 24.0, "adults": 2.0},
    )
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["pupils"], resp.get_json()["groep"]) == (24, "7")
    resp = client.post(
        "/api/v1/bookings", headers=header, json={"session_id": session_id, "groep": "7", "pupils": 24.5, "adults": 2}
    )
    assert resp.status_code == 422 and resp.get_json()["field"] == "pupils"


def test_numbers_that_are_not_numbers_are_refused_not_ignored(client):
    header, _, _ = _teacher_and_session()
    for query, field in (
        ("school_year=abc", "school_year"),
        ("school_year=1999", "school_year"),
        ("region_id=x", None),
    ):
        resp = client.get(f"/api/v1/rules?{query}", headers=header)
        if field:
            assert resp.status_code == 422 and resp.get_json()["field"] == field, query
        else:  # only administrators pass a region; a teacher's own region stands
            assert resp.status_code == 200
