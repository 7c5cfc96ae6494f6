"""Reach measures against a small hand-computed data set."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from app.booking.models import Booking, BookingStatus, SeriesBooking
from app.extensions import db
from app.reporting.reach import Filters, school_rows, summary, trend
from app.schools.models import GroepEnrolment, SchoolYearCount
from tests import factories

YEAR = 2025  # 2025/26
T0 = datetime(2025, 10, 6, 8, 0, tzinfo=timezone.utc)


def book(session, school, status, lo, hi, pupils, attended=None, series=None, position=None):
    b = Booking(
        session_id=session.id,
        school_id=school.id,
        status=status,
        groep_min=lo,
        groep_max=hi,
        pupils=pupils,
        adults=2,
        attended_pupils=attended,
        series_id=series.id if series else None,
        part_position=position,
        girls=pupils // 2 if status == BookingStatus.ATTENDED else None,
        boys=pupils - pupils // 2 if status == BookingStatus.ATTENDED else None,
    )
    db.session.add(b)
    return b


@pytest.fixture
def data(app):
    """Four schools:
    A (enrolment per groep real: 30 each): groep 7 came twice (25 then 27 attended) -> one class, 27 pupils;
      a combination class 7/8 attended with 20 -> 10 to groep 7 and 10 to groep 8.
    B (total 160, even split 20 per groep, estimated): one no-show and one cancelled -> not reached.
    C (no enrolment data): groep 5 attended 18 -> reached, no share.
    D: nothing.
    """
    region = factories.region()
    lab = factories.venue(region, latitude=52.0, longitude=6.0)
    hotspot = factories.venue(region, name="Hotspot", latitude=52.0, longitude=6.0)
    offer = factories.offer(region, lab, groep_min=5, groep_max=8, capacity_classes=5, capacity_pupils=200)
    s = [factories.session(offer, T0 + timedelta(days=7 * i)) for i in range(4)]
    a = factories.school(region, name="A", latitude=52.0, longitude=6.05)  # ~4.4 km
    b = factories.school(region, name="B", latitude=52.0, longitude=6.2)  # ~18 km
    c = factories.school(region, name="C", latitude=52.3, longitude=6.0)  # ~43 km
    d = factories.school(region, name="D", latitude=52.0, longitude=6.1)
    for g in range(1, 9):
        db.session.add(GroepEnrolment(school_id=a.id, school_year=YEAR, groep=g, pupils=30))
    db.session.add(SchoolYearCount(school_id=b.id, school_year=YEAR, pupils=160))
    book(s[0], a, BookingStatus.ATTENDED, 7, 7, 26, attended=25)
    book(s[1], a, BookingStatus.ATTENDED, 7, 7, 27, attended=27)
    book(s[2], a, BookingStatus.ATTENDED, 7, 8, 22, attended=20)
    book(s[0], b, BookingStatus.NO_SHOW, 6, 6, 24)
    book(s[1], b, BookingStatus.CANCELLED, 6, 6, 24)
    book(s[3], c, BookingStatus.ATTENDED, 5, 5, 18, attended=18)
    series_offer = factories.series_offer(region, lab, hotspot, school_year=YEAR)
    parts = [
        factories.session(series_offer, T0 + timedelta(days=30 + 10 * i), part=p)
        for i, p in enumerate(series_offer.parts)
    ]
    sb = SeriesBooking(offer_id=series_offer.id, school_id=d.id, status=BookingStatus.CONFIRMED)
    db.session.add(sb)
    db.session.flush()
    book(parts[0], d, BookingStatus.ATTENDED, 8, 8, 20, attended=20, series=sb, position=1)
    book(parts[1], d, BookingStatus.ATTENDED, 8, 8, 20, attended=19, series=sb, position=2)
    book(parts[2], d, BookingStatus.CANCELLED, 8, 8, 20, series=sb, position=3)
    db.session.flush()
    return region, dict(a=a, b=b, c=c, d=d)


def test_per_school_and_groep(data):
    region, s = data
    rows = {r.school.name: r for r in school_rows(Filters(YEAR, region.id))}
    a = rows["A"]
    assert (a.classes, a.pupils, a.visits) == (2, 27 + 20, 3)  # the class that came twice counts once
    assert a.reached_groep == {7: 27 + 10, 8: 10}
    assert a.enrolled == 240 and not a.enrolled_estimated and a.share == pytest.approx(47 / 240)
    b = rows["B"]
    assert b.classes == 0 and b.enrolled == 160 and b.enrolled_estimated
    c = rows["C"]
    assert c.classes == 1 and c.pupils == 18 and c.enrolled is None and c.share is None
    assert rows["D"].classes == 1 and rows["D"].pupils == 20  # parts 1 and 2 of a series: one class, max 20
    assert 3 < a.distance_km < 6 and rows["C"].distance_km > 20


def test_summary(data):
    region, s = data
    sm = summary(Filters(YEAR, region.id))
    assert (sm.schools, sm.schools_reached) == (4, 3)
    assert sm.share_schools == pytest.approx(0.75)
    assert (sm.bookings_attended, sm.bookings_no_show, sm.bookings_cancelled) == (6, 1, 2)
    assert sm.sessions_held == 6  # four plain sessions had attendance? s0,s1,s2,s3 + series parts 1 and 2
    g7 = next(g for g in sm.groepen if g["groep"] == 7)
    assert g7["pupils_reached"] == 37 and g7["pupils_enrolled"] == 30 + 20
    assert sm.series == {"series": 1, "part1": 1, "parts12": 1, "all3": 0}
    bands = {b["band"]: (b["schools"], b["reached"]) for b in sm.distance_bands}
    assert bands["0–6 km"][1] >= 1 and bands["20+ km"] == (1, 1)
    # each class once, the most of its visits: A's groep 7 gave 13+13 and 13+14 -> 13 girls, 14 boys
    assert (sm.girls, sm.boys) == (13 + 11 + 9 + 10, 14 + 11 + 9 + 10)


def test_filters_and_trend(data):
    region, s = data
    assert summary(Filters(YEAR, region.id, world=factories.World.ENERGIE_WATER_VEILIGHEID)).schools_reached == 0
    other = Filters(YEAR - 1, region.id)
    assert summary(other).schools_reached == 0
    t = trend(Filters(YEAR, region.id), years=2)
    assert [x["school_year"] for x in t] == [YEAR - 1, YEAR] and t[-1]["schools_reached"] == 3


def test_dashboard_exports_and_api(client, app, login, data):
    import csv
    import io

    from openpyxl import load_workbook

    region, s = data
    leader = factories.user("programme_leader", region=region)
    teacher = factories.teacher(s["b"])
    h = factories.auth_header(leader)
    th = factories.auth_header(teacher)
    db.session.commit()
    login(leader)
    page = client.get(f"/bereik/?school_year={YEAR}")
    assert page.status_code == 200
    assert "3 van 4 (75%)" in page.text and "<svg" in page.text and "niet bereikt" in page.text
    assert "<script" not in page.text
    resp = client.get(f"/bereik/export/scholen.csv?school_year={YEAR}")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig")), delimiter=";"))
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["A"][3:6] == ["2", "47", "3"] and by_name["B"][7] == "ja"
    xlsx = client.get(f"/bereik/export/scholen.xlsx?school_year={YEAR}")
    wb = load_workbook(io.BytesIO(xlsx.data), read_only=True)
    assert wb.sheetnames == [
        "kerncijfers",
        "scholen",
        "groepen",
        "trend",
        "afstand",
        "reeksen",
        "niet-bereikt",
        "Definities",
    ]
    key = dict(r for r in wb["kerncijfers"].iter_rows(values_only=True))
    assert (key["Scholen bereikt (geweest)"], key["Leerlingen bereikt"], key["Boekingen niet verschenen"]) == (
        3,
        27 + 20 + 18 + 20,
        1,
    )
    assert list(wb["reeksen"].iter_rows(values_only=True))[1] == (1, 1, 1, 0)
    trend_csv = client.get(f"/bereik/export/trend.csv?school_year={YEAR}").data.decode("utf-8-sig").splitlines()
    assert trend_csv[-1] == f"{YEAR}/{YEAR + 1};3;4;{27 + 20 + 18 + 20}"
    assert client.get(f"/bereik/export/bestaat-niet.csv?school_year={YEAR}").status_code == 404
    groep7 = [r for r in wb["groepen"].iter_rows(values_only=True) if r[0] == 7][0]
    assert groep7[1] == 37  # the same figure as the page and the CSV
    not_reached = list(wb["niet-bereikt"].iter_rows(values_only=True))
    assert [r[1] for r in not_reached[1:]] == ["B"] and teacher.email in not_reached[1][5]
    api = client.get(f"/api/v1/reach?school_year={YEAR}&group_by=groep", headers=h).get_json()
    assert api["summary"]["schools_reached"] == 3 and api["groups"][6]["pupils"] == 37
    assert client.get("/api/v1/reach?group_by=nonsense", headers=h).get_json()["code"] == "invalid_parameter"
    assert client.get("/api/v1/reach", headers=th).status_code == 403
    client.post("/uitloggen")
    login(teacher)
    assert client.get("/bereik/").status_code == 403


def test_booked_not_visited_counts_apart_and_equal_on_every_surface(client, app, login, data):
    """One meaning of "reached" (app.booking.reached): a school with only a confirmed visit to come is
    "geboekt, nog niet geweest", not on the recruitment list, and the page, the CSV, the XLSX and the
    API give the same three figures, which add up to the schools in scope."""
    import csv
    import io

    from openpyxl import load_workbook

    region, s = data
    offer = factories.offer(region, factories.venue(region, name="Lab E"), groep_min=5, groep_max=8)
    upcoming = factories.session(offer, T0 + timedelta(days=60))
    e = factories.school(region, name="E", latitude=52.0, longitude=6.02)
    book(upcoming, e, BookingStatus.CONFIRMED, 6, 6, 24)
    book(upcoming, s["b"], BookingStatus.WAITLISTED, 6, 6, 24)  # waiting reaches no one
    leader = factories.user("programme_leader", region=region)
    h = factories.auth_header(leader)
    db.session.commit()
    sm = summary(Filters(YEAR, region.id))
    assert (sm.schools, sm.schools_reached, sm.schools_booked_not_visited, sm.schools_not_reached) == (5, 3, 1, 1)
    login(leader)
    page = client.get(f"/bereik/?school_year={YEAR}").text
    assert "3 van 5 (60%)" in page
    assert re.search(r"Scholen geboekt, nog niet geweest</dt><dd>1</dd>", page)
    assert re.search(r"Scholen niet bereikt</dt><dd>1</dd>", page)
    recruit = page.split('id="h-niet"')[1].split('id="h-geboekt"')[0]
    assert "<td>B</td>" in recruit and "<td>E</td>" not in recruit
    assert "<td>E</td>" in page.split('id="h-geboekt"')[1]
    figures = ("Scholen bereikt (geweest)", "Scholen geboekt, nog niet geweest", "Scholen niet bereikt")
    key_csv = dict(
        csv.reader(
            io.StringIO(client.get(f"/bereik/export/kerncijfers.csv?school_year={YEAR}").data.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert [int(key_csv[f]) for f in figures] == [3, 1, 1]
    wb = load_workbook(
        io.BytesIO(client.get(f"/bereik/export/kerncijfers.xlsx?school_year={YEAR}").data), read_only=True
    )
    key = dict(r for r in wb["kerncijfers"].iter_rows(values_only=True))
    assert [key[f] for f in figures] == [3, 1, 1]
    assert [r[1] for r in list(wb["niet-bereikt"].iter_rows(values_only=True))[1:]] == ["B"]
    not_reached_csv = client.get(f"/bereik/export/niet-bereikt.csv?school_year={YEAR}").data.decode("utf-8-sig")
    assert len(not_reached_csv.strip().splitlines()) - 1 == 1
    api = client.get(f"/api/v1/reach?school_year={YEAR}", headers=h).get_json()["summary"]
    assert (api["schools"], api["schools_reached"], api["schools_booked_not_visited"], api["schools_not_reached"]) == (
        5,
        3,
        1,
        1,
    )


def test_map_classes_and_points(data):
    from app.reporting.charts import map_points, reach_class
    from app.labs.models import Venue
    from sqlalchemy import select

    region, s = data
    rows = school_rows(Filters(YEAR, region.id))
    classes = {r.school.name: reach_class(r) for r in rows}
    # A: 47 of 240 enrolled (< 25 %); B: not reached; C: reached without enrolment data; D: reached
    assert classes == {"A": "some", "B": "none", "C": "some", "D": "some"}
    venues = db.session.scalars(select(Venue)).all()
    schools, sites = map_points(rows, venues)
    assert [p.cls for p in schools][0] == "none"  # the unreached are drawn first, under the reached
    assert len(schools) == 4 and len(sites) == 2
    assert all(0 <= p.x <= 600 and 0 <= p.y <= 500 for p in schools + sites)
    north = next(p for p in schools if p.item.school.name == "C")  # the northernmost is highest on the map
    assert north.y == min(p.y for p in schools)


def test_school_history_page(client, app, login, data):
    region, s = data
    leader = factories.user("programme_leader", region=region)
    db.session.commit()
    login(leader)
    page = client.get(f"/bereik/school/{s['a'].id}?school_year={YEAR}")
    assert page.status_code == 200
    assert f"<td>{YEAR}/{(YEAR + 1) % 100}</td><td>2</td><td>47</td><td>240</td>" in page.text
    assert "<td>Hi-tech &" in page.text  # the world's name
    assert "hitech_science" not in page.text  # the world's name, not its code
    other = factories.school(factories.region())
    db.session.commit()
    assert client.get(f"/bereik/school/{other.id}").status_code == 404  # another region's school


def test_distance_bands_use_the_regions_road_factor_and_known_distances(data):
    from sqlalchemy import select

    from app.labs.models import Venue
    from app.transport.distance import great_circle_km
    from app.transport.models import RoadDistance

    region, s = data
    rows = {r.school.name: r for r in school_rows(Filters(YEAR, region.id))}
    straight = great_circle_km(52.0, 6.05, 52.0, 6.0)  # A lies due east of both venues
    assert rows["A"].distance_km == pytest.approx(straight * region.road_factor)
    region.road_factor = 1.0
    lab = db.session.scalar(select(Venue).where(Venue.region_id == region.id, Venue.name != "Hotspot"))
    hotspot = db.session.scalar(select(Venue).where(Venue.name == "Hotspot"))
    # the road from B to the lab is known to be short (a ferry, say); from B to the hotspot it is not
    db.session.add_all(
        [
            RoadDistance(school_id=s["b"].id, venue_id=lab.id, km=8.0),
            RoadDistance(school_id=s["b"].id, venue_id=hotspot.id, km=30.0),
        ]
    )
    db.session.flush()
    rows = {r.school.name: r for r in school_rows(Filters(YEAR, region.id))}
    assert rows["A"].distance_km == pytest.approx(straight)
    assert rows["B"].distance_km == 8.0
    bands = {b["band"]: b["schools"] for b in summary(Filters(YEAR, region.id)).distance_bands}
    # B by its known road distance (about 18 km as the crow flies), D at about 6.9 km
    assert bands["6–10 km"] == 2 and bands["10–20 km"] == 0
