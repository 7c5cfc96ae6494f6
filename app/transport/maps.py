"""The routes of a day as server-drawn SVG data: a pure function (no third-party scripts)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class MapPoint:
    label: str
    x: float
    y: float
    kind: str  # "venue" or "stop"


@dataclass(frozen=True)
class MapRoute:
    label: str
    points: tuple[tuple[float, float], ...]  # stops in order, then the venue
    colour: int  # 0..11, a CSS class (r0..r11)
    dash: int = 0  # 0..2, a CSS class (d0 solid, d1 dashed, d2 dotted): with the colour, 36 distinct lines


COLOURS, DASHES = 12, 3


def route_map(
    routes: list[tuple[str, list[tuple[str, float, float]], tuple[str, float, float]]],
    width: int = 600,
    height: int = 450,
    pad: int = 24,
) -> tuple[list[MapRoute], list[MapPoint]]:
    """routes: (bus label, [(stop label, lat, lon) in order], (venue label, lat, lon)).

    An equirectangular projection of the box around all points, as the reach map does.
    """
    coords = [
        (lat, lon)
        for _l, stops, venue in routes
        for _s, lat, lon in stops + [venue]
        if lat is not None and lon is not None
    ]
    if not coords:
        return [], []
    lats, lons = [c[0] for c in coords], [c[1] for c in coords]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    aspect = math.cos(math.radians((lat0 + lat1) / 2))
    span_lon, span_lat = max((lon1 - lon0) * aspect, 1e-6), max(lat1 - lat0, 1e-6)
    scale = min((width - 2 * pad) / span_lon, (height - 2 * pad) / span_lat)

    def xy(lat, lon):
        return round(pad + (lon - lon0) * aspect * scale, 1), round(height - pad - (lat - lat0) * scale, 1)

    lines, points, seen = [], [], set()
    for i, (label, stops, venue) in enumerate(routes):
        pts = [xy(lat, lon) for _s, lat, lon in stops + [venue] if lat is not None and lon is not None]
        lines.append(MapRoute(label, tuple(pts), i % COLOURS, (i // COLOURS) % DASHES))
        for name, lat, lon in stops:
            if lat is not None and (name, lat, lon) not in seen:
                seen.add((name, lat, lon))
                points.append(MapPoint(name, *xy(lat, lon), "stop"))
        if venue[1] is not None and venue not in seen:
            seen.add(venue)
            points.append(MapPoint(venue[0], *xy(venue[1], venue[2]), "venue"))
    return lines, points
