"""The API's schemas (app.api.schemas): one model per resource parses the input, shapes the
answer and is the OpenAPI document's component; the page size limit comes from the config;
wrong input is the same problem as before; a refused request leaves nothing behind."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pydantic.json_schema import models_json_schema

from app.extensions import db
from tests import factories


def _world():
    region = factories.region()
    lab = factories.venue(region)
    offers = [factories.offer(region, lab, title=f"Aanbod {i}", adults_per_class=1) for i in range(3)]
    session = factories.session(offers[0], datetime.now(timezone.utc) + timedelta(days=30))
    teacher = factories.teacher(factories.school(region))
    header = factories.auth_header(teacher)
    db.session.commit()
    return header, session.id, [o.id for o in offers]


def test_component_schemas_are_the_models_json_schemas(client, app):
    from app.api.bookings import Booking, BookingChange, BookingRequest
    from app.api.catalogue import Offer
    from app.api.transport import BusPlans

    doc = client.get("/api/v1/openapi.json").get_json()
    components = doc["components"]["schemas"]
    models = [(Booking, "serialization"), (Offer, "serialization"), (BusPlans, "serialization")]
    models += [(BookingRequest, "validation"), (BookingChange, "validation")]
    _, top = models_json_schema(models, ref_template="#/components/schemas/{model}")
    for name, schema in top["$defs"].items():
        assert components[name] == schema, name
    post = doc["paths"]["/bookings"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BookingRequest"
    }
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Booking"}
    assert doc["paths"]["/auth/token"]["post"]["security"] == [] and "security" not in doc["paths"]["/me"]["get"]


def test_page_size_limit_is_the_configured_one(client, app, monkeypatch):
    header, _, offer_ids = _world()
    monkeypatch.setitem(app.config, "API_PAGE_SIZE_MAX", 2)
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in ("/offers", "/bookings", "/schools"):
        (per_page,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == "per_page"]
        assert per_page["schema"]["maximum"] == 2, path
    resp = client.get("/api/v1/offers?per_page=3", headers=header)
    assert resp.status_code == 422 and resp.get_json()["code"] == "invalid_parameter"
    page = client.get("/api/v1/offers?per_page=2", headers=header).get_json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["next"]
    second = client.get(page["next"], headers=header).get_json()
    assert [o["id"] for o in page["items"] + second["items"]] == offer_ids  # by title, as search_offers orders


def test_offers_are_the_catalogue_search(client, app):
    """The API lists what app.catalogue.services.search_offers finds, in its order."""
    from app.auth.models import User
    from app.catalogue.services import OfferFilters, search_offers
    from app.db import utcnow

    header, _, offer_ids = _world()
    teacher = db.session.query(User).filter_by(role="teacher").one()
    found = search_offers(teacher, teacher.region_id, OfferFilters(groep=7, sort="title"), utcnow())
    listed = client.get("/api/v1/offers?groep=7", headers=header).get_json()
    assert [o["id"] for o in listed["items"]] == [r.offer.id for r in found.items] == offer_ids


def test_wrong_input_is_the_same_problem_as_before(client, app):
    header, session_id, _ = _world()
    body = {"session_id": session_id, "groep": "7", "pupils": 20, "adults": 1}

    def post(**change):
        return client.post("/api/v1/bookings", json={**body, **change}, headers=header)

    for change, field, detail in (
        ({"pupils": "20"}, "pupils", "pupils must be a whole number."),
        ({"pupils": True}, "pupils", "pupils must be a whole number."),
        ({"pupils": None}, "pupils", "pupils must be a whole number."),
        ({"session_id": 0}, "session_id", "session_id is not an id."),
        ({"session_id": 2**31}, "session_id", "session_id is not an id."),
        ({"groep": [7]}, "groep", 'groep must be a text like "7" or "7/8".'),
        ({"waitlist": "yes"}, "waitlist", "waitlist must be true or false."),
        ({"class_name": "x" * 41}, "class_name", "class_name must be a text of at most 40 characters."),
        ({"contact_name": "Ans\r\nBcc: x@example.org"}, "contact_name", None),
    ):
        resp = post(**change)
        problem = resp.get_json()
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", change
        assert problem["code"] == "invalid_input" and problem["field"] == field, (change, problem)
        assert detail is None or problem["detail"] == detail, (change, problem)
    assert client.post("/api/v1/bookings", data="x", headers=header).status_code == 415
    assert client.post("/api/v1/bookings", json=[body], headers=header).status_code == 400
    resp = client.get("/api/v1/sessions?from=gisteren", headers=header)
    assert resp.status_code == 422 and resp.get_json()["field"] == "from"
    # JSON numbers: 20.0 is 20 and a groep may be a number
    created = post(pupils=20.0, groep=7, remarks=None)
    assert created.status_code == 201, created.get_json()
    booking = created.get_json()
    assert booking["pupils"] == 20 and booking["groep"] == "7" and booking["remarks"] == ""
    assert booking["created_at"] == datetime.fromisoformat(booking["created_at"]).isoformat()  # +00:00, not Z
    url = f"/api/v1/bookings/{booking['id']}"
    resp = client.patch(url, json={"status": "confirmed"}, headers=header)
    assert resp.status_code == 422 and resp.get_json()["field"] == "status"
    resp = client.patch(url, json={}, headers=header)
    assert resp.status_code == 422 and resp.get_json()["detail"] == "Give at least one field to change."


def test_a_refused_request_leaves_nothing_behind(client, app):
    """The API does not commit itself: a problem answer is rolled back by the request's unit of work."""
    from sqlalchemy import func, select

    from app.booking.models import Booking
    from app.labs.models import Session

    header, session_id, _ = _world()
    body = {"session_id": session_id, "groep": "7", "pupils": 20, "adults": 1}
    created = client.post("/api/v1/bookings", json=body, headers=header)
    assert created.status_code == 201, created.get_json()
    ok = created.get_json()
    # the same class again: the service refuses after it locked and read
    again = client.post("/api/v1/bookings", json=body, headers=header)
    assert again.status_code in (409, 422) and again.mimetype == "application/problem+json"
    change = client.patch(f"/api/v1/bookings/{ok['id']}", json={"pupils": 41}, headers=header)
    assert change.status_code == 422 and change.get_json()["field"] == "pupils"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    assert db.session.get(Booking, ok["id"]).pupils == 20
    assert db.session.get(Session, session_id).booked_pupils == 20


def test_a_page_of_sessions_is_read_in_a_fixed_number_of_statements(client, app):
    """Building the answer models reads nothing lazily: six sessions of six offers at six venues
    cost no more statements than two."""
    from app.labs.models import Offer
    from tests.api.test_booking_path import sql_counter

    header, _, offer_ids = _world()
    counts = []
    for extra in (1, 4):
        region = db.session.get(Offer, offer_ids[0]).region
        for i in range(extra):
            offer = factories.offer(region, factories.venue(region, name=f"Hotspot {extra}-{i}"), adults_per_class=1)
            factories.session(offer, datetime.now(timezone.utc) + timedelta(days=40 + i))
        db.session.commit()
        db.session.remove()
        with sql_counter(app) as seen:
            page = client.get("/api/v1/sessions", headers=header).get_json()
        counts.append((len(page["items"]), len(seen["statements"])))
    (two, first), (six, second) = counts
    assert (two, six) == (2, 6) and second <= first, counts
