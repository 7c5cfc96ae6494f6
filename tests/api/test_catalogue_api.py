"""The read API: shapes, filters, pagination, problem bodies, region isolation, OpenAPI."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.extensions import db
from app.schools.models import SchoolYearCount
from app.timeutil import school_year_of
from tests import factories

NOW = datetime.now(timezone.utc)


def _setup():
    region = factories.region(code="oost")
    school = factories.school(region)
    db.session.add(SchoolYearCount(school_id=school.id, school_year=school_year_of(NOW), pupils=200))
    venue = factories.venue(region)
    offer = factories.offer(region, venue, groep_min=7, groep_max=8, capacity_pupils=50, capacity_classes=2)
    s1 = factories.session(offer, NOW + timedelta(days=5))
    s2 = factories.session(offer, NOW + timedelta(days=40))
    s1.booked_pupils, s1.booked_classes = 20, 1
    other = factories.region(code="west")
    o_venue = factories.venue(other)
    o_offer = factories.offer(other, o_venue)
    o_session = factories.session(o_offer)
    o_school = factories.school(other)
    teacher = factories.teacher(school)
    coord = factories.user("coordinator", region=region, venues=[venue])
    headers = factories.auth_header(teacher)
    ids = dict(
        offer=offer.id,
        s1=s1.id,
        s2=s2.id,
        venue=venue.id,
        school=school.id,
        o_offer=o_offer.id,
        o_session=o_session.id,
        o_venue=o_venue.id,
        o_school=o_school.id,
    )
    coord_headers = factories.auth_header(coord)
    db.session.commit()
    return ids, headers, coord_headers


def test_sessions_have_capacity_booked_available(client, app):
    ids, h, _ = _setup()
    resp = client.get(f"/api/v1/sessions?offer={ids['offer']}", headers=h)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["total"] == 2 and [s["id"] for s in body["items"]] == [ids["s1"], ids["s2"]]
    first = body["items"][0]
    assert first["capacity"] == {"pupils": 50, "classes": 2}
    assert first["booked"] == {"pupils": 20, "classes": 1}
    assert first["available"] == {"pupils": 30, "classes": 1} and first["status"] == "bookable"
    assert first["venue"]["id"] == ids["venue"] and first["starts_at"].endswith("+00:00")
    until = (NOW + timedelta(days=10)).date().isoformat()
    assert [s["id"] for s in client.get(f"/api/v1/sessions?to={until}", headers=h).get_json()["items"]] == [ids["s1"]]


def test_lists_are_paginated(client, app):
    ids, h, _ = _setup()
    body = client.get("/api/v1/sessions?per_page=1", headers=h).get_json()
    assert body["per_page"] == 1 and len(body["items"]) == 1 and body["next"]
    assert client.get(body["next"], headers=h).get_json()["items"][0]["id"] == ids["s2"]


def test_bad_parameters_are_problems(client, app):
    _, h, _ = _setup()
    for url in (
        "/api/v1/sessions?from=gisteren",
        "/api/v1/offers?groep=x",
        "/api/v1/offers?world=maan",
        "/api/v1/offers?per_page=100000",
        "/api/v1/offers?groep=9",
    ):
        resp = client.get(url, headers=h)
        assert resp.status_code == 422, url
        assert resp.mimetype == "application/problem+json" and resp.get_json()["code"] == "invalid_parameter"


def test_token_is_required(client, app):
    resp = client.get("/api/v1/offers")
    assert resp.status_code == 401 and resp.get_json()["code"] == "unauthorized"
    assert client.get("/api/v1/offers", headers={"Authorization": "Bearer tlb_nonsense"}).status_code == 401


def test_region_isolation(client, app):
    ids, h, ch = _setup()
    for headers in (h, ch):
        assert client.get(f"/api/v1/offers/{ids['o_offer']}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/sessions/{ids['o_session']}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/venues/{ids['o_venue']}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/schools/{ids['o_school']}", headers=headers).status_code == 404
        listed = {o["id"] for o in client.get("/api/v1/offers", headers=headers).get_json()["items"]}
        assert listed == {ids["offer"]}
    assert client.get(f"/api/v1/offers/{ids['offer']}", headers=ch).status_code == 200


def test_schools_with_enrolment_per_groep(client, app):
    ids, h, _ = _setup()
    school = client.get(f"/api/v1/schools/{ids['school']}", headers=h).get_json()
    groepen = school["enrolment"]["groepen"]
    assert [g["groep"] for g in groepen] == list(range(1, 9))
    assert sum(g["pupils"] for g in groepen) == 200 and all(g["estimated"] for g in groepen)
    assert school["latitude"] is not None


def test_openapi_describes_every_api_route(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(p, m) for p, item in doc["paths"].items() for m in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = rule.rule[len("/api/v1") :].replace("<int:", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)
    # every $ref resolves
    import json

    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in doc["components"]["schemas"], ref
