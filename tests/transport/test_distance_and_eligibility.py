"""Distances against known figures, and the bus threshold applied exactly."""

from __future__ import annotations

import math

import pytest

from app.transport.distance import great_circle_km, road_km
from app.transport.eligibility import needs_bus

KM_PER_DEGREE = 2 * math.pi * 6371.0088 / 360  # 111.195 km along a meridian


def test_one_degree_along_a_meridian_and_the_equator():
    assert great_circle_km(52.0, 6.0, 53.0, 6.0) == pytest.approx(KM_PER_DEGREE, abs=0.001)
    assert great_circle_km(0.0, 10.0, 0.0, 11.0) == pytest.approx(KM_PER_DEGREE, abs=0.001)
    assert great_circle_km(52.0, 6.0, 52.0, 6.0) == 0.0


def test_known_city_distances():
    # London – Paris, a figure quoted everywhere: 343.5 km great-circle
    assert great_circle_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=0.5)
    # Doetinchem station – Winterswijk station: about 29.5 km as the crow flies
    assert great_circle_km(51.9573, 6.2969, 51.9700, 6.7216) == pytest.approx(29.2, abs=0.5)


def test_road_factor_and_a_known_road_distance():
    gc = great_circle_km(52.0, 6.0, 52.05, 6.0)
    assert road_km(52.0, 6.0, 52.05, 6.0) == pytest.approx(gc * 1.3)
    assert road_km(52.0, 6.0, 52.05, 6.0, road_factor=1.5) == pytest.approx(gc * 1.5)
    assert road_km(52.0, 6.0, 52.05, 6.0, known_km=3.2) == 3.2
    assert road_km(None, 6.0, 52.05, 6.0) is None


def _lat_for_road_km(km: float, factor: float) -> float:
    return 52.0 + km / factor / KM_PER_DEGREE


@pytest.mark.parametrize("factor", [1.0, 1.3, 1.6])
def test_threshold_exactly_with_the_road_factor(factor):
    for km, expected in ((5.9, False), (6.1, True)):
        lat = _lat_for_road_km(km, factor)
        d = road_km(lat, 6.0, 52.0, 6.0, factor)
        assert d == pytest.approx(km, abs=1e-6)
        assert needs_bus(d, 6.0) is expected, (km, factor)
    # the same school is within 6 km by crow flight but beyond it by road
    lat = _lat_for_road_km(6.1, 1.3)
    assert not needs_bus(great_circle_km(lat, 6.0, 52.0, 6.0), 6.0)
    assert needs_bus(road_km(lat, 6.0, 52.0, 6.0, 1.3), 6.0)


def test_no_bus_at_school_declined_not_provided_or_unknown():
    assert needs_bus(20.0, 6.0)
    assert not needs_bus(6.0, 6.0)  # at the threshold is not farther than it
    assert not needs_bus(20.0, 6.0, at_school=True)
    assert not needs_bus(20.0, 6.0, declined=True)
    assert not needs_bus(20.0, 6.0, bus_provided=False)
    assert not needs_bus(None, 6.0)
    assert needs_bus(9.0, 8.0) and not needs_bus(7.9, 8.0)  # the region's own threshold
