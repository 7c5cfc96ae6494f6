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


def line(
    points: list[tuple[str, float | None]], width=600, height=200, pad=30
) -> list[tuple[str, float | None, float, float | None]]:
    """(label, value, x, y) for a line chart scaled to the maximum value; a value of None (no
    data) has no y: the chart leaves a gap there instead of drawing a 0."""
    top = max([v for _, v in points if v is not None] + [1])
    n = max(1, len(points) - 1)
    return [
        (label, v, pad + i * (width - 2 * pad) / n, None if v is None else height - pad - (height - 2 * pad) * v / top)
        for i, (label, v) in enumerate(points)
    ]


def segments(points) -> list[list[tuple[float, float]]]:
    """The runs of consecutive points with a value: one polyline each, so gaps stay gaps."""
    out: list[list[tuple[float, float]]] = [[]]
    for _label, _v, x, y in points:
        if y is None:
            if out[-1]:
                out.append([])
        else:
            out[-1].append((x, y))
    return [s for s in out if s]


# reach classes of the map: (key, lower bound of the share reached); a reached school
# without enrolment data counts as "some"
REACH_CLASSES = (("none", None), ("some", 0.0), ("half", 0.25), ("most", 0.5))


def reach_class(row) -> str:
    """The map class of a school row: none, some (< 25 %), half (25–50 %) or most (>= 50 %)."""
    if not row.classes:
        return "none"
    share = row.share or 0.0
    return "most" if share >= 0.5 else "half" if share >= 0.25 else "some"


@dataclass(frozen=True)
class MapPoint:
    item: object  # a school row or a venue (a cluster: its first school row)
    x: float
    y: float
    cls: str = ""  # a reach class, "venue", or "cluster"
    members: tuple = ()  # a cluster: the school rows drawn at this one place
    approximate: bool = False  # placed at its postcode area's centre, not its own address

    @property
    def count(self) -> int:
        return len(self.members) or 1


def map_points(rows, venues=(), width=600, height=500, pad=20) -> tuple[list[MapPoint], list[MapPoint]]:
    """Schools (with their reach class) and venues placed on one equirectangular projection
    of the box around them; things without coordinates are left off (the table has them)."""
    located = [r for r in rows if r.school.latitude is not None and r.school.longitude is not None]
    sites = [v for v in venues if v.latitude is not None and v.longitude is not None]
    coords = [(r.school.latitude, r.school.longitude) for r in located] + [(v.latitude, v.longitude) for v in sites]
    if not coords:
        return [], []
    lats, lons = [c[0] for c in coords], [c[1] for c in coords]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    span_lat, span_lon = max(lat1 - lat0, 1e-6), max(lon1 - lon0, 1e-6)
    import math

    aspect = math.cos(math.radians((lat0 + lat1) / 2))
    scale = min((width - 2 * pad) / (span_lon * aspect), (height - 2 * pad) / span_lat)

    def xy(lat, lon):
        return pad + (lon - lon0) * aspect * scale, height - pad - (lat - lat0) * scale

    # schools at exactly the same place (most often the centre of a postcode area, when the
    # school's own coordinates are unknown) are one cluster with its number, not a stack
    from app.schools.models import CoordSource

    places: dict[tuple[float, float], list] = {}
    for r in located:
        places.setdefault((round(r.school.latitude, 5), round(r.school.longitude, 5)), []).append(r)
    order = {key: i for i, (key, _) in enumerate(REACH_CLASSES)}  # reached schools drawn on top
    order["cluster"] = len(order)
    points = []
    for (lat, lon), group in places.items():
        approx = any(r.school.coord_source == CoordSource.PC4 for r in group)
        if len(group) == 1:
            points.append(MapPoint(group[0], *xy(lat, lon), reach_class(group[0]), approximate=approx))
        else:
            points.append(MapPoint(group[0], *xy(lat, lon), "cluster", tuple(group), approx))
    schools = sorted(points, key=lambda p: order[p.cls])
    return (schools, [MapPoint(v, *xy(v.latitude, v.longitude), "venue") for v in sites])
