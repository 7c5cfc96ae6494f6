"""The school map clusters schools drawn at one place; the route map gives every bus its own line."""

from types import SimpleNamespace

from app.reporting.charts import map_points
from app.schools.models import CoordSource
from app.transport.maps import route_map


def _row(name, lat, lon, source=CoordSource.FILE, classes=0):
    return SimpleNamespace(
        school=SimpleNamespace(name=name, latitude=lat, longitude=lon, coord_source=source), classes=classes, share=None
    )


def test_schools_at_one_place_are_one_numbered_cluster():
    rows = [
        _row("A", 52.0, 6.0, CoordSource.PC4),
        _row("B", 52.0, 6.0, CoordSource.PC4, classes=1),
        _row("C", 52.1, 6.1),
        _row("D", 52.2, 6.2, CoordSource.PC4),
    ]
    schools, _sites = map_points(rows)
    assert len(schools) == 3
    cluster = next(p for p in schools if p.cls == "cluster")
    assert cluster.count == 2 and {m.school.name for m in cluster.members} == {"A", "B"} and cluster.approximate
    exact = next(p for p in schools if p.item.school.name == "C")
    assert exact.count == 1 and not exact.approximate and exact.cls == "none"
    assert next(p for p in schools if p.item.school.name == "D").approximate


def test_every_bus_of_a_day_has_its_own_line_style():
    routes = [(f"Bus {i}", [(f"School {i}", 52.0 + i / 100, 6.0)], ("Lab", 52.0, 6.3)) for i in range(30)]
    lines, _points = route_map(routes)
    assert len({(r.colour, r.dash) for r in lines}) == 30
