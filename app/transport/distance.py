"""Distances between schools and venues: pure functions.

The estimate is the great-circle (haversine) distance times a road factor (per region,
1.3 by default); a known road distance for a pair overrides it.
"""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
DEFAULT_ROAD_FACTOR = 1.3


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    h = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def road_km(
    lat1: float | None,
    lon1: float | None,
    lat2: float | None,
    lon2: float | None,
    road_factor: float = DEFAULT_ROAD_FACTOR,
    known_km: float | None = None,
) -> float | None:
    """Road distance: the known one if given, else great-circle × road factor; None without coordinates."""
    if known_km is not None:
        return known_km
    if None in (lat1, lon1, lat2, lon2):
        return None
    return great_circle_km(lat1, lon1, lat2, lon2) * road_factor
