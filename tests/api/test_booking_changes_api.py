"""The API for issue 17: PATCH a booking, offer settings in the offer, approving and declining requests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.extensions import db
from tests import factories

NOW = datetime.now(timezone.utc)


def _setup(**offer_kw):
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, capacity_classes=2, capacity_pupils=40, adults_per_class=1, **offer_kw)
    session = factories.session(offer, NOW + timedelta(days=30))
    a, b = factories.school(region), factories.school(region)
    ta, tb = factories.teacher(a), factories.teacher(b)
    coord = factories.user("coordinator", region=region, venues=[venue])
    leader = factories.user("programme_leader", region=region)
    h = {k: factories.auth_header(u) for k, u in dict(a=ta, b=tb, coord=coord, leader=leader).items()}
    db.session.commit()
    return dict(session=session.id, offer=offer.id), h


def _book(client, ids, h, who="a", pupils=20):
    resp = client.post(
        "/api/v1/bookings",
        json={"session_id": ids["session"], "groep": "7", "pupils": pupils, "adults": 2},
        headers=h[who],
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_patch_changes_pupils_and_refuses_with_problem_bodies(client, app):
    ids, h = _setup()
    mine = _book(client, ids, h, "a", 20)
    _book(client, ids, h, "b", 15)
    ok = client.patch(f"/api/v1/bookings/{mine['id']}", json={"pupils": 25, "remarks": "Rolstoel"}, headers=h["a"])
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["pupils"] == 25 and ok.get_json()["remarks"] == "Rolstoel"
    assert ok.get_json()["sequence"] > mine["sequence"]
    full = client.patch(f"/api/v1/bookings/{mine['id']}", json={"pupils": 26}, headers=h["a"])
    assert full.status_code == 409 and full.mimetype == "application/problem+json"
    assert full.get_json()["code"] == "full" and full.get_json()["field"] == "pupils"
    for body, status, code in (
        ({"session_id": 1}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
        ({"pupils": "veel"}, 422, "invalid_input"),
        ({"groep": "3"}, 422, "groep_not_targeted"),
        ({"contact_email": "a@b"}, 422, "invalid_input"),
    ):
        resp = client.patch(f"/api/v1/bookings/{mine['id']}", json=body, headers=h["a"])
        assert (resp.status_code, resp.get_json()["code"]) == (status, code), (body, resp.get_json())
    assert client.patch(f"/api/v1/bookings/{mine['id']}", json={"pupils": 2}, headers=h["b"]).status_code == 404
    assert client.patch(f"/api/v1/bookings/{mine['id']}", json={"pupils": 2}, headers=h["leader"]).status_code == 403
    assert client.get(f"/api/v1/bookings/{mine['id']}", headers=h["a"]).get_json()["pupils"] == 25


def test_patch_after_the_change_deadline_is_refused(client, app):
    ids, h = _setup(change_deadline_days=40)
    mine = _book(client, ids, h)
    resp = client.patch(f"/api/v1/bookings/{mine['id']}", json={"pupils": 21}, headers=h["a"])
    assert resp.status_code == 422 and resp.get_json()["code"] == "change_deadline_passed"


def test_offer_settings_in_the_api_and_refusals(client, app):
    ids, h = _setup(min_notice_days=35, booking_horizon_weeks=8, approval_required=True, change_deadline_days=7)
    offer = client.get(f"/api/v1/offers/{ids['offer']}", headers=h["a"]).get_json()
    assert (
        offer["min_notice_days"],
        offer["booking_horizon_weeks"],
        offer["change_deadline_days"],
        offer["approval_required"],
    ) == (35, 8, 7, True)
    resp = client.post(
        "/api/v1/bookings", json={"session_id": ids["session"], "groep": "7", "pupils": 20, "adults": 2}, headers=h["a"]
    )
    assert resp.status_code == 422 and resp.get_json()["code"] == "min_notice"
    assert "35 dagen" in resp.get_json()["detail"]


def test_request_approved_and_declined_through_the_api(client, app):
    ids, h = _setup(approval_required=True)
    first = _book(client, ids, h, "a")
    second = _book(client, ids, h, "b")
    assert first["status"] == second["status"] == "requested"
    assert client.post(f"/api/v1/bookings/{first['id']}/approve", headers=h["a"]).status_code == 403
    approved = client.post(f"/api/v1/bookings/{first['id']}/approve", headers=h["coord"])
    assert approved.status_code == 200 and approved.get_json()["status"] == "confirmed"
    no_reason = client.post(f"/api/v1/bookings/{second['id']}/reject", json={}, headers=h["coord"])
    assert no_reason.status_code == 422 and no_reason.get_json()["field"] == "reason"
    rejected = client.post(
        f"/api/v1/bookings/{second['id']}/reject", json={"reason": "Vol met groep 8"}, headers=h["coord"]
    )
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "cancelled"


def test_openapi_documents_the_new_operations(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "patch" in doc["paths"]["/bookings/{booking_id}"]
    assert "/bookings/{booking_id}/approve" in doc["paths"] and "/bookings/{booking_id}/reject" in doc["paths"]
    assert "requested" in doc["components"]["schemas"]["Booking"]["properties"]["status"]["enum"]
    assert "approval_required" in doc["components"]["schemas"]["Offer"]["properties"]
