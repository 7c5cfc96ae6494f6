"""Charts and the map as server-rendered SVG data: pure functions (no third-party scripts)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1 for shares
    text: str
    x: float
    y: float
    width: float
    height: float


def bars(items: list[tuple[str, float | None, str]], width=600, height=220, pad=30) -> list[Bar]:
    """Vertical bars for shares (0..1); None is drawn as an empty bar with its text."""
    n = max(1, len(items))
    slot = (width - 2 * pad) / n
    out = []
    for i, (label, value, text) in enumerate(items):
        v = max(0.0, min(1.0, value or 0.0))
        h = (height - 2 * pad) * v
        out.append(Bar(label, v, text, pad + i * slot + slot * 0.15, height - pad - h, slot * 0.7, h))
    return out


def line(points: list[tuple[str, float]], width=600, height=200, pad=30) -> list[tuple[str, float, float, float]]:
    """(label, value, x, y) for a line chart scaled to the maximum value."""
    top = max([v for _, v in points] + [1])
    n = max(1, len(points) - 1)
    return [(label, v, pad + i * (width - 2 * pad) / n, height - pad - (height - 2 * pad) * v / top)
            for i, (label, v) in enumerate(points)]


def map_points(rows, width=600, height=500, pad=20):
    """(row, x, y) for schools with coordinates, an equirectangular projection of their box."""
    located = [r for r in rows if r.school.latitude is not None and r.school.longitude is not None]
    if not located:
        return []
    lats = [r.school.latitude for r in located]
    lons = [r.school.longitude for r in located]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    span_lat, span_lon = max(lat1 - lat0, 1e-6), max(lon1 - lon0, 1e-6)
    import math

    aspect = math.cos(math.radians((lat0 + lat1) / 2))
    scale = min((width - 2 * pad) / (span_lon * aspect), (height - 2 * pad) / span_lat)
    return [(r, pad + (r.school.longitude - lon0) * aspect * scale, height - pad - (r.school.latitude - lat0) * scale)
            for r in located]
