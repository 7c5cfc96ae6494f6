"""Regions: administrators create and edit them; a programme leader sets their own region's settings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.admin import services
from app.auth.models import HolidayRegion, Region, Role
from app.errors import PermissionDeniedError
from app.extensions import db
from tests import factories

VALID = {
    "code": "sto-utrecht",
    "name": "STO Utrecht",
    "holiday_region": "midden",
    "bus_threshold_km": "6",
    "road_factor": "1.3",
    "collect_gender_counts": "y",
}


def _regions() -> int:
    return db.session.scalar(select(func.count(Region.id)))


def test_admin_creates_a_region(client, app, login):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    assert client.get("/regiobeheer/regios/nieuw").status_code == 200
    resp = client.post("/regiobeheer/regios/nieuw", data=VALID)
    assert resp.status_code == 302
    region = db.session.scalar(select(Region).where(Region.code == "sto-utrecht"))
    assert (
        region.name,
        region.holiday_region,
        region.bus_threshold_km,
        region.road_factor,
        region.collect_gender_counts,
    ) == ("STO Utrecht", HolidayRegion.MIDDEN, 6.0, 1.3, True)
    listing = client.get("/regiobeheer/regios")
    assert listing.status_code == 200 and "STO Utrecht" in listing.text
    assert region.bus_share_detour_minutes == 10  # the default: a shared bus may drive 10 minutes between venues


def test_the_shared_bus_detour_is_a_region_setting(client, app, login):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    assert client.post("/regiobeheer/regios/nieuw", data={**VALID, "bus_share_detour_minutes": "0"}).status_code == 302
    region = db.session.scalar(select(Region).where(Region.code == "sto-utrecht"))
    assert region.bus_share_detour_minutes == 0  # the same venue only
    page = client.get(f"/regiobeheer/regios/{region.id}")
    assert 'name="bus_share_detour_minutes"' in page.text and "Gedeelde bus" in page.text


@pytest.mark.parametrize(
    "change, field_message",
    [
        ({"bus_threshold_km": "0"}, "busgrens ligt tussen 0 en 100"),
        ({"bus_threshold_km": "100.5"}, "busgrens ligt tussen 0 en 100"),
        ({"road_factor": "0.9"}, "omrijfactor ligt tussen 1,0 en 3,0"),
        ({"road_factor": "3.01"}, "omrijfactor ligt tussen 1,0 en 3,0"),
        ({"code": "Met Spaties"}, "kleine letters"),
        ({"bus_threshold_km": "zes"}, "Not a valid decimal value"),
        ({"holiday_region": "west"}, "keuze"),
        ({"bus_share_detour_minutes": "61"}, "Van 0 tot en met 60 minuten"),
    ],
)
def test_bad_region_settings_are_put_back_on_the_form(client, app, login, change, field_message):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    resp = client.post("/regiobeheer/regios/nieuw", data={**VALID, **change})
    assert resp.status_code == 422
    if "keuze" not in field_message and "decimal" not in field_message:
        assert field_message in resp.text
        # the message sits with its field
        field = next(iter(change))
        assert f'id="{field}-error"' in resp.text and 'aria-invalid="true"' in resp.text
    assert _regions() == 0


def test_region_code_is_unique(client, app, login):
    factories.region("sto-utrecht")
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    resp = client.post("/regiobeheer/regios/nieuw", data=VALID)
    assert resp.status_code == 422 and "al een regio met deze code" in resp.text
    assert _regions() == 1


def test_admin_edits_code_name_and_settings(client, app, login):
    region = factories.region("oud", name="Oud")
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    page = client.get(f"/regiobeheer/regios/{region.id}")
    assert page.status_code == 200 and 'name="code"' in page.text
    resp = client.post(
        f"/regiobeheer/regios/{region.id}", data={**VALID, "code": "nieuw", "name": "Nieuw", "bus_threshold_km": "8.5"}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    region = db.session.get(Region, region.id)
    assert (region.code, region.name, region.bus_threshold_km) == ("nieuw", "Nieuw", 8.5)


def test_programme_leader_sets_their_own_regions_settings_but_not_code_or_name(client, app, login):
    region = factories.region("eigen", name="Eigen regio")
    other = factories.region("ander", name="Andere regio")
    leader = factories.user(Role.PROGRAMME_LEADER, region=region)
    db.session.commit()
    login(leader)
    page = client.get(f"/regiobeheer/regios/{region.id}")
    assert page.status_code == 200 and 'name="code"' not in page.text and 'name="road_factor"' in page.text
    resp = client.post(
        f"/regiobeheer/regios/{region.id}",
        data={
            "code": "gekaapt",
            "name": "Gekaapt",
            "holiday_region": "zuid",
            "bus_threshold_km": "10",
            "road_factor": "1.5",
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    region = db.session.get(Region, region.id)
    assert (region.code, region.name) == ("eigen", "Eigen regio")  # not changed by a leader
    assert (region.holiday_region, region.bus_threshold_km, region.road_factor, region.collect_gender_counts) == (
        HolidayRegion.ZUID,
        10.0,
        1.5,
        False,
    )
    bad = client.post(
        f"/regiobeheer/regios/{region.id}",
        data={"holiday_region": "zuid", "bus_threshold_km": "150", "road_factor": "1.5"},
    )
    assert bad.status_code == 422 and "busgrens ligt tussen 0 en 100" in bad.text
    # another region does not exist for them; the list of all regions is the administrator's
    assert client.get(f"/regiobeheer/regios/{other.id}").status_code == 404
    assert (
        client.post(
            f"/regiobeheer/regios/{other.id}",
            data={"holiday_region": "zuid", "bus_threshold_km": "3", "road_factor": "1.5"},
        ).status_code
        == 404
    )
    assert client.get("/regiobeheer/regios").status_code == 403
    assert client.get("/regiobeheer/regios/nieuw").status_code == 403
    assert db.session.get(Region, other.id).bus_threshold_km == 6.0
    settings = services.RegionSettings(HolidayRegion.ZUID, 10, 1.5, False)
    with pytest.raises(PermissionDeniedError):
        services.update_region(leader, region, settings, code="gekaapt")
    with pytest.raises(PermissionDeniedError):
        services.update_region(leader, other, settings)


def test_coordinators_and_teachers_have_no_region_pages(client, app, login):
    region = factories.region()
    school, venue = factories.school(region), factories.venue(region)
    people = [factories.teacher(school), factories.user(Role.COORDINATOR, region=region, venues=[venue])]
    db.session.commit()
    for person in people:
        login(person)
        for url in (
            "/regiobeheer/",
            "/regiobeheer/regios",
            "/regiobeheer/regios/nieuw",
            f"/regiobeheer/regios/{region.id}",
        ):
            assert client.get(url).status_code == 403, (person.role, url)
        assert client.post(f"/regiobeheer/regios/{region.id}", data={**VALID}).status_code == 403
        client.post("/uitloggen")
    assert db.session.get(Region, region.id).code != "sto-utrecht"


def test_menu_entry_for_administrators_and_programme_leaders(client, app, login):
    region = factories.region()
    school = factories.school(region)
    admin, leader, teacher = (
        factories.user(Role.ADMIN),
        factories.user(Role.PROGRAMME_LEADER, region=region),
        factories.teacher(school),
    )
    db.session.commit()
    for person, label in ((admin, "Beheer"), (leader, "Regiobeheer"), (teacher, None)):
        login(person)
        page = client.get("/")
        if label:
            assert f'<a href="/regiobeheer/">{label}</a>' in page.text
            overview = client.get("/regiobeheer/")
            assert overview.status_code == 200
        else:
            assert 'href="/regiobeheer/"' not in page.text
        client.post("/uitloggen")
