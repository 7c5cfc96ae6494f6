"""Catalogue: filters, distance from the teacher's school, availability, isolation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.catalogue.availability import Availability, availability
from app.catalogue.services import OfferFilters, search_offers
from app.extensions import db
from app.labs.models import OfferKind, SessionStatus, World
from app.transport.models import RoadDistance
from tests import factories

NOW = datetime.now(timezone.utc)


def _world(app):
    """A school in Doetinchem and venues at known distances (as the crow flies × 1.3)."""
    region = factories.region()
    school = factories.school(region, latitude=51.9662, longitude=6.2913)  # Doetinchem
    near = factories.venue(region, name="Dichtbij", latitude=51.9536, longitude=6.3216)  # ~3 km
    mid = factories.venue(region, name="Middel", latitude=52.0077, longitude=6.3465)  # ~8.5 km
    far = factories.venue(region, name="Ver", latitude=51.9712, longitude=6.7234)  # ~38 km
    offers = {
        "near7": factories.offer(region, near, title="Dichtbij 5-8", groep_min=5, groep_max=8),
        "mid7": factories.offer(region, mid, title="Middel 7-8", groep_min=7, groep_max=8, world=World.VOEDING_NATUUR),
        "far7": factories.offer(region, far, title="Ver 6-8", groep_min=6, groep_max=8),
        "near5": factories.offer(region, near, title="Dichtbij 5", groep_min=5, groep_max=5),
        "hidden": factories.offer(region, near, title="Niet gepubliceerd", published=False),
    }
    for o in offers.values():
        factories.session(o, NOW + timedelta(days=20))
    return region, school, near, mid, far, offers


def test_teacher_finds_groep_7_offers_within_15_km_sorted_by_distance(app):
    region, school, near, mid, far, offers = _world(app)
    teacher = factories.teacher(school)
    page = search_offers(teacher, region.id, OfferFilters(groep=7, max_km=15), NOW)
    assert [r.offer.title for r in page.items] == ["Dichtbij 5-8", "Middel 7-8"]
    assert page.items[0].distance_km < page.items[1].distance_km < 15
    assert 2 < page.items[0].distance_km < 5 and not page.items[0].bus
    assert page.items[1].bus  # > 6 km and the offer provides a bus


def test_known_road_distance_overrides_the_estimate(app):
    region, school, near, mid, far, offers = _world(app)
    db.session.add(RoadDistance(school_id=school.id, venue_id=far.id, km=12.0))
    teacher = factories.teacher(school)
    page = search_offers(teacher, region.id, OfferFilters(groep=7, max_km=15), NOW)
    assert [r.offer.title for r in page.items] == ["Dichtbij 5-8", "Middel 7-8", "Ver 6-8"]


def test_filters_world_bus_places_and_dates(app):
    region, school, near, mid, far, offers = _world(app)
    teacher = factories.teacher(school)
    assert [
        r.offer.title for r in search_offers(teacher, region.id, OfferFilters(world=World.VOEDING_NATUUR), NOW).items
    ] == ["Middel 7-8"]
    assert {r.offer.title for r in search_offers(teacher, region.id, OfferFilters(bus_only=True), NOW).items} == {
        "Middel 7-8",
        "Ver 6-8",
    }
    s = offers["near7"].id
    session = db.session.scalars(db.select(factories.Session).where(factories.Session.offer_id == s)).one()
    session.booked_pupils, session.booked_classes = session.capacity_pupils, session.capacity_classes
    titles = {r.offer.title for r in search_offers(teacher, region.id, OfferFilters(only_available=True), NOW).items}
    assert "Dichtbij 5-8" not in titles and "Dichtbij 5" in titles
    d = (NOW + timedelta(days=40)).date()
    assert search_offers(teacher, region.id, OfferFilters(date_from=d), NOW).total == 0
    assert search_offers(None, region.id, OfferFilters(), NOW).total == 4  # unpublished never listed


def test_pagination_counts_after_filtering(app):
    region = factories.region()
    venue = factories.venue(region)
    for i in range(25):
        factories.offer(region, venue, title=f"Aanbod {i:02d}")
    page = search_offers(None, region.id, OfferFilters(), NOW, page=2, per_page=10)
    assert page.total == 25 and page.pages == 3 and len(page.items) == 10
    assert page.items[0].offer.title == "Aanbod 10"


def test_availability_statuses(app):
    region = factories.region()
    offer = factories.offer(region, factories.venue(region), booking_opens_at=NOW + timedelta(days=1))
    s = factories.session(offer, NOW + timedelta(days=10))
    assert availability(s, NOW).status == Availability.NOT_OPEN_YET
    offer.booking_opens_at = None
    assert availability(s, NOW).bookable
    s.booked_classes = s.capacity_classes
    assert availability(s, NOW).status == Availability.FULL
    assert availability(s, NOW + timedelta(days=11)).status == Availability.PAST
    s.status = SessionStatus.CANCELLED
    assert availability(s, NOW).status == Availability.CANCELLED


def test_pages(client, app, login):
    region, school, near, mid, far, offers = _world(app)
    other = factories.region()
    foreign = factories.offer(other, factories.venue(other), title="Elders")
    teacher = factories.teacher(school)
    db.session.commit()
    ids = {k: o.id for k, o in offers.items()}
    foreign_id = foreign.id
    login(teacher)
    resp = client.get("/aanbod/?groep=7&max_km=15&sort=distance")
    assert resp.status_code == 200
    text = resp.text
    assert text.index("Dichtbij 5-8") < text.index("Middel 7-8") and "Ver 6-8" not in text
    assert "km van uw school" in text and "Bus wordt geregeld" in text
    assert client.get(f"/aanbod/{ids['near7']}").status_code == 200
    assert client.get(f"/aanbod/{ids['hidden']}").status_code == 404
    assert client.get(f"/aanbod/{foreign_id}").status_code == 404
    assert client.get("/aanbod/?max_km=abc").status_code == 200  # bad filter: shown, not a 500
    assert client.get("/aanbod/locaties").status_code == 200


def test_offer_page_lists_series_parts(client, app):
    region = factories.region()
    lab, hotspot = factories.venue(region), factories.venue(region, name="Hotspot")
    offer = factories.series_offer(region, lab, hotspot, title="Drieluik")
    for p in offer.parts:
        factories.session(offer, NOW + timedelta(days=10 * p.position), part=p)
    db.session.commit()
    resp = client.get(f"/aanbod/{offer.id}")
    assert resp.status_code == 200 and "Deel 3" in resp.text and "Praktijkbezoek" in resp.text
    assert offer.kind == OfferKind.MASTERCLASS
