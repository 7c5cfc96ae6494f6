"""The bookings API: statuses, problem bodies, series, cancel, visibility."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.extensions import db
from tests import factories

NOW = datetime.now(timezone.utc)


def _setup():
    region = factories.region()
    venue = factories.venue(region)
    hotspot = factories.venue(region, name="Hotspot")
    offer = factories.offer(region, venue, capacity_classes=1, capacity_pupils=30, adults_per_class=1)
    session = factories.session(offer, NOW + timedelta(days=30))
    series = factories.series_offer(region, venue, hotspot, groep_min=7, groep_max=8, adults_per_class=1)
    parts = [factories.session(series, NOW + timedelta(days=20 + 7 * i), part=p).id for i, p in enumerate(series.parts)]
    a, b = factories.school(region), factories.school(region)
    ta, tb = factories.teacher(a), factories.teacher(b)
    coord = factories.user("coordinator", region=region, venues=[venue])
    other_region = factories.region()
    stranger = factories.teacher(factories.school(other_region))
    h = {k: factories.auth_header(u) for k, u in dict(a=ta, b=tb, coord=coord, stranger=stranger).items()}
    ids = dict(session=session.id, series=series.id, parts=parts)
    db.session.commit()
    return ids, h


def test_book_full_waitlist_and_cancel(client, app):
    ids, h = _setup()
    body = {"session_id": ids["session"], "groep": "7", "pupils": 24, "adults": 2}
    resp = client.post("/api/v1/bookings", json=body, headers=h["a"])
    assert resp.status_code == 201, resp.get_json()
    booking = resp.get_json()
    assert (
        booking["status"] == "confirmed"
        and booking["groep"] == "7"
        and resp.headers["Location"].endswith(str(booking["id"]))
    )
    full = client.post("/api/v1/bookings", json=body, headers=h["b"])
    assert full.status_code == 409 and full.mimetype == "application/problem+json"
    assert full.get_json()["code"] == "full" and full.get_json()["detail"]
    wait = client.post("/api/v1/bookings", json={**body, "waitlist": True}, headers=h["b"])
    assert wait.status_code == 201 and wait.get_json()["status"] == "waitlisted"
    again = client.post("/api/v1/bookings", json=body, headers=h["a"])
    assert again.status_code == 409 and again.get_json()["code"] == "already_booked"
    # a cancellation promotes the waiting class
    assert client.delete(f"/api/v1/bookings/{booking['id']}", headers=h["a"]).get_json()["status"] == "cancelled"
    promoted = client.get(f"/api/v1/bookings/{wait.get_json()['id']}", headers=h["b"]).get_json()
    assert promoted["status"] == "confirmed"
    listed = client.get("/api/v1/bookings", headers=h["coord"]).get_json()
    assert {b["id"] for b in listed["items"]} == {booking["id"], promoted["id"]}


def test_invalid_input_and_rules_are_422(client, app):
    ids, h = _setup()
    cases = [
        ({"session_id": ids["session"], "groep": "3", "pupils": 20, "adults": 2}, "groep_not_targeted"),
        ({"session_id": ids["session"], "groep": "7", "pupils": 99, "adults": 2}, "invalid_input"),
        ({"session_id": ids["session"], "groep": "7", "pupils": "twintig"}, "invalid_input"),
        ({"session_id": "x", "groep": "7", "pupils": 20}, "invalid_input"),
        ({"session_id": ids["session"], "groep": "7", "pupils": 20, "adults": 0}, "adults_required"),
        ({"session_id": ids["session"], "groep": None, "pupils": 20}, "invalid_input"),
    ]
    for body, code in cases:
        resp = client.post("/api/v1/bookings", json=body, headers=h["a"])
        assert resp.status_code == 422 and resp.get_json()["code"] == code, (body, resp.get_json())
    assert client.post("/api/v1/bookings", json=[1], headers=h["a"]).status_code == 400
    assert (
        client.post(
            "/api/v1/bookings", json={"session_id": 999999, "groep": "7", "pupils": 20, "adults": 2}, headers=h["a"]
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/bookings",
            json={"session_id": ids["session"], "groep": "7", "pupils": 20, "adults": 2},
            headers=h["coord"],
        ).status_code
        == 403
    )


def test_other_regions_cannot_book_or_see(client, app):
    ids, h = _setup()
    resp = client.post(
        "/api/v1/bookings",
        json={"session_id": ids["session"], "groep": "7", "pupils": 20, "adults": 2},
        headers=h["stranger"],
    )
    assert resp.status_code == 404
    mine = client.post(
        "/api/v1/bookings", json={"session_id": ids["session"], "groep": "7", "pupils": 20, "adults": 2}, headers=h["a"]
    ).get_json()
    assert client.get(f"/api/v1/bookings/{mine['id']}", headers=h["stranger"]).status_code == 404
    assert client.get(f"/api/v1/bookings/{mine['id']}", headers=h["b"]).status_code == 404
    assert client.delete(f"/api/v1/bookings/{mine['id']}", headers=h["b"]).status_code == 404


def test_series_booking(client, app):
    ids, h = _setup()
    body = {"offer_id": ids["series"], "session_ids": ids["parts"], "groep": "7/8", "pupils": 25, "adults": 2}
    resp = client.post("/api/v1/series-bookings", json=body, headers=h["a"])
    assert resp.status_code == 201, resp.get_json()
    series = resp.get_json()
    assert [b["part"] for b in series["bookings"]] == [1, 2, 3] and series["status"] == "confirmed"
    wrong = client.post("/api/v1/series-bookings", json={**body, "session_ids": ids["parts"][::-1]}, headers=h["b"])
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "series_order"
    short = client.post("/api/v1/series-bookings", json={**body, "session_ids": ids["parts"][:2]}, headers=h["b"])
    assert short.status_code == 422 and short.get_json()["code"] == "series_incomplete"
