"""Region changes keep history: a dated membership, a preview, teachers moving along, an exact undo."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.admin import services
from app.auth.models import Role, User
from app.booking.models import BookingStatus
from app.extensions import db
from app.reporting.reach import Filters, school_rows, summary
from app.schools.models import RegionChange, School, SchoolRegion
from tests import factories
from tests.reporting.test_reach import book

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)  # school year 2026/27
PAST = datetime(2025, 10, 6, 8, 0, tzinfo=timezone.utc)  # school year 2025/26


@pytest.fixture
def world(app, monkeypatch):
    monkeypatch.setattr(services, "utcnow", lambda: NOW)
    old, new = factories.region(name="Oude regio"), factories.region(name="Nieuwe regio")
    lab = factories.venue(old, latitude=52.0, longitude=6.0)
    offer = factories.offer(old, lab, groep_min=5, groep_max=8, capacity_classes=5, capacity_pupils=200)
    a = factories.school(old, name="A", municipality_code="1509", municipality_name="Oude IJsselstreek")
    b = factories.school(old, name="B", municipality_code="1509", municipality_name="Oude IJsselstreek")
    c = factories.school(old, name="C", municipality_code="0222", municipality_name="Doetinchem")
    for s in (a, b, c):
        factories.enrol(s, 2025, per_groep=20)
        factories.enrol(s, 2026, per_groep=20)
    book(factories.session(offer, PAST), a, BookingStatus.ATTENDED, 7, 7, 25, attended=24)
    book(factories.session(offer, PAST + timedelta(days=7)), c, BookingStatus.ATTENDED, 6, 6, 22, attended=22)
    book(factories.session(offer, NOW - timedelta(days=14)), b, BookingStatus.ATTENDED, 8, 8, 20, attended=19)
    upcoming = book(factories.session(offer, NOW + timedelta(days=21)), a, BookingStatus.CONFIRMED, 5, 5, 24)
    teacher = factories.teacher(a)
    admin = factories.user(Role.ADMIN)
    db.session.flush()
    return dict(old=old, new=new, a=a, b=b, c=c, teacher=teacher, admin=admin, upcoming=upcoming)


def _figures(region, year):
    rows = school_rows(Filters(year, region.id))
    sm = summary(Filters(year, region.id), rows)
    return (sorted(r.school.name for r in rows), sm.schools, sm.schools_reached, sm.pupils_served, sm.bookings_attended)


def test_reassign_changes_the_running_year_only_and_undo_is_exact(world):
    old, new, admin = world["old"], world["new"], world["admin"]
    before = {(r.code, y): _figures(r, y) for r in (old, new) for y in (2025, 2026)}
    assert before[(old.code, 2025)] == (["A", "B", "C"], 3, 2, 46, 2)

    preview = services.preview_region_change(admin, new, "municipality", ["1509"])
    assert [s.name for s in preview.moving] == ["A", "B"] and preview.from_year == 2026
    assert [u.id for u in preview.teachers] == [world["teacher"].id]
    assert [b.id for b in preview.upcoming] == [world["upcoming"].id]
    assert db.session.scalar(select(func.count(SchoolRegion.id))) == 0  # a preview changes nothing

    change = services.assign_schools_to_region(admin, new, "municipality", ["1509"])
    db.session.flush()
    assert change.schools == 2 and change.teachers == 1
    # 2025/26 is history: the same figures for both regions
    assert _figures(old, 2025) == before[(old.code, 2025)]
    assert _figures(new, 2025) == before[(new.code, 2025)]
    # 2026/27 on: A and B are in the new region, and so is the teacher (who can book there)
    assert _figures(old, 2026)[0] == ["C"]
    assert _figures(new, 2026)[0] == ["A", "B"]
    assert db.session.get(User, world["teacher"].id).region_id == new.id
    assert db.session.get(School, world["a"].id).region_id == new.id

    services.undo_region_change(admin, change)
    db.session.flush()
    db.session.expire_all()
    after = {(r.code, y): _figures(r, y) for r in (old, new) for y in (2025, 2026)}
    assert after == before
    assert db.session.scalar(select(func.count(SchoolRegion.id))) == 0  # exactly as before
    assert db.session.get(User, world["teacher"].id).region_id == old.id
    assert db.session.get(School, world["a"].id).region_id == old.id


def test_two_changes_and_undo_in_reverse_order(world):
    old, new, admin = world["old"], world["new"], world["admin"]
    before = {(r.code, y): _figures(r, y) for r in (old, new) for y in (2025, 2026)}
    first = services.assign_schools_to_region(admin, new, "municipality", ["1509"])
    second = services.assign_schools_to_region(admin, new, "municipality", ["0222", "1509"])  # A, B already there
    assert second.schools == 1
    back = services.assign_schools_to_region(admin, old, "municipality", ["1509"])
    db.session.flush()
    assert _figures(old, 2025) == before[(old.code, 2025)]
    with pytest.raises(services.DomainError):
        services.undo_region_change(admin, first)  # the later change "back" touched the same schools
    for c in (back, second, first):
        services.undo_region_change(admin, c)
        db.session.flush()
    db.session.expire_all()
    assert {(r.code, y): _figures(r, y) for r in (old, new) for y in (2025, 2026)} == before
    with pytest.raises(services.DomainError):
        services.undo_region_change(admin, first)  # once


def _confirm_municipality_1509(client, new) -> None:
    """Confirm on the page that municipality 1509 (two schools) goes to region ``new``."""
    done = client.post(
        "/regiobeheer/schoolgegevens/regio",
        data={"region": new.id, "area": "municipality", "codes": "1509", "confirm": "1"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "2 scholen zijn toegewezen aan Nieuwe regio" in done.text


def test_pages_preview_confirm_and_undo(client, world, login):
    old, new = world["old"], world["new"]
    login(world["admin"])
    page = client.post(
        "/regiobeheer/schoolgegevens/regio", data={"region": new.id, "area": "municipality", "codes": "1509"}
    )
    assert page.status_code == 200 and "Voorbeeld: wat verandert er?" in page.text
    assert "2 scholen gaan naar Nieuwe regio" in page.text and "1 leerkracht gaat mee met de school." in page.text
    assert "1 boeking die nog komt blijft zoals die is." in page.text
    assert db.session.scalar(select(func.count(RegionChange.id))) == 0
    _confirm_municipality_1509(client, new)
    change = db.session.scalar(select(RegionChange))
    undone = client.post(f"/regiobeheer/schoolgegevens/regio/wijzigingen/{change.id}/ongedaan", follow_redirects=True)
    assert undone.status_code == 200 and "ongedaan gemaakt" in undone.text
    db.session.expire_all()
    assert db.session.get(School, world["a"].id).region_id == old.id
    assert client.post("/regiobeheer/schoolgegevens/regio/wijzigingen/999999/ongedaan").status_code == 404


# ------------------------------------------------------------------ who may reassign: one gate


def test_the_gate_per_role_and_direction(world):
    from app.auth import permissions

    old, new = world["old"], world["new"]
    third = factories.region(name="Derde regio")
    leader = factories.user(Role.PROGRAMME_LEADER, region=old)
    coordinator = factories.user(Role.COORDINATOR, region=old)
    gate = permissions.can_reassign_area
    assert gate(world["admin"], new, old) and gate(world["admin"], None, third) and gate(world["admin"], third, None)
    assert gate(leader, old, new) and gate(leader, old.id, third.id)  # giving their own away
    assert gate(leader, None, old)  # taking in a school without a region
    assert not gate(leader, new, old)  # taking from another region: an administrator's
    assert not gate(leader, None, new)  # a school without a region to another region: not theirs
    assert not gate(leader, new, third) and not gate(leader, old, old)
    assert not gate(coordinator, old, new) and not gate(world["teacher"], old, new)
    assert not permissions.can_reassign_areas(coordinator) and permissions.can_reassign_areas(leader)


def test_a_programme_leader_gives_a_municipality_away_and_undoes_it(world):
    old, new = world["old"], world["new"]
    leader = factories.user(Role.PROGRAMME_LEADER, region=old)
    before = {(r.code, y): _figures(r, y) for r in (old, new) for y in (2025, 2026)}
    preview = services.preview_region_change(leader, new, "municipality", ["1509"])
    assert [s.name for s in preview.moving] == ["A", "B"]
    change = services.assign_schools_to_region(leader, new, "municipality", ["1509"])
    db.session.flush()
    assert change.schools == 2 and db.session.get(School, world["a"].id).region_id == new.id
    assert _figures(old, 2025) == before[(old.code, 2025)]  # 2025/26 reach unchanged
    assert [c.id for c in services.recent_region_changes(leader)] == [change.id]
    # the leader of the region that received them may not undo it (that takes schools from it)
    other_leader = factories.user(Role.PROGRAMME_LEADER, region=new)
    with pytest.raises(services.PermissionDeniedError):
        services.undo_region_change(other_leader, change)
    services.undo_region_change(leader, change)
    db.session.flush()
    db.session.expire_all()
    assert {(r.code, y): _figures(r, y) for r in (old, new) for y in (2025, 2026)} == before
    assert db.session.get(User, world["teacher"].id).region_id == old.id


def test_a_programme_leader_may_not_take_schools_of_another_region(world):
    old, new = world["old"], world["new"]
    leader = factories.user(Role.PROGRAMME_LEADER, region=new)
    for call in (services.preview_region_change, services.assign_schools_to_region):
        with pytest.raises(services.PermissionDeniedError) as refused:
            call(leader, new, "municipality", ["1509"])
        assert refused.value.field == "codes" and "Oude regio" in refused.value.message
    assert db.session.scalar(select(func.count(RegionChange.id))) == 0
    assert db.session.get(School, world["a"].id).region_id == old.id
    # nor may an administrator's change that took them be undone by the receiving leader
    change = services.assign_schools_to_region(world["admin"], new, "municipality", ["1509"])
    with pytest.raises(services.PermissionDeniedError):
        services.undo_region_change(leader, change)
    assert change.undone_at is None
    # and a mixed municipality (one school elsewhere) is refused as a whole for the old region's leader
    third = factories.region(name="Derde regio")
    factories.school(third, name="D", municipality_code="0222", municipality_name="Doetinchem")
    old_leader = factories.user(Role.PROGRAMME_LEADER, region=old)
    with pytest.raises(services.PermissionDeniedError):
        services.assign_schools_to_region(old_leader, new, "municipality", ["0222"])


def test_a_programme_leader_takes_in_schools_without_a_region_only_for_their_own(world):
    old, new = world["old"], world["new"]
    loose = factories.school(None, name="E", municipality_code="0197", municipality_name="Aalten")
    leader = factories.user(Role.PROGRAMME_LEADER, region=old)
    with pytest.raises(services.PermissionDeniedError):
        services.assign_schools_to_region(leader, new, "municipality", ["0197"])
    assert "0197" in {m["code"] for m in services.municipality_overview(leader)}
    change = services.assign_schools_to_region(leader, old, "municipality", ["0197"])
    db.session.flush()
    assert db.session.get(School, loose.id).region_id == old.id
    services.undo_region_change(leader, change)
    db.session.flush()
    db.session.expire_all()
    assert db.session.get(School, loose.id).region_id is None


def test_coordinators_and_teachers_are_refused_by_the_service(world):
    coordinator = factories.user(Role.COORDINATOR, region=world["old"])
    for actor in (coordinator, world["teacher"]):
        with pytest.raises(services.PermissionDeniedError):
            services.preview_region_change(actor, world["new"], "municipality", ["1509"])
        with pytest.raises(services.PermissionDeniedError):
            services.assign_schools_to_region(actor, world["new"], "municipality", ["1509"])
    change = services.assign_schools_to_region(world["admin"], world["new"], "municipality", ["1509"])
    with pytest.raises(services.PermissionDeniedError):
        services.undo_region_change(coordinator, change)


def test_programme_leader_pages_preview_confirm_undo_and_refusal(client, world, login):
    old, new = world["old"], world["new"]
    leader = factories.user(Role.PROGRAMME_LEADER, region=old)
    login(leader)
    assert "/regiobeheer/schoolgegevens/regio" in client.get("/regiobeheer/").text  # reached from their dashboard
    page = client.get("/regiobeheer/schoolgegevens/regio")
    assert page.status_code == 200 and 'id="leader-rule"' in page.text
    preview = client.post(
        "/regiobeheer/schoolgegevens/regio", data={"region": new.id, "area": "municipality", "codes": "1509"}
    )
    assert preview.status_code == 200 and "2 scholen gaan naar Nieuwe regio" in preview.text
    _confirm_municipality_1509(client, new)
    change = db.session.scalar(select(RegionChange))
    # the receiving region's leader sees no undo button and is refused
    client.post("/uitloggen")
    taker = factories.user(Role.PROGRAMME_LEADER, region=new)
    login(taker)
    assert "alleen een beheerder" in client.get("/regiobeheer/schoolgegevens/regio").text
    assert client.post(f"/regiobeheer/schoolgegevens/regio/wijzigingen/{change.id}/ongedaan").status_code == 403
    taking = client.post(
        "/regiobeheer/schoolgegevens/regio",
        data={"region": new.id, "area": "municipality", "codes": "0222", "confirm": "1"},  # C, of the old region
    )
    assert taking.status_code == 422 and "Dit mag alleen een beheerder" in taking.text
    assert db.session.scalar(select(func.count(RegionChange.id))) == 1
    client.post("/uitloggen")
    login(leader)
    undone = client.post(f"/regiobeheer/schoolgegevens/regio/wijzigingen/{change.id}/ongedaan", follow_redirects=True)
    assert undone.status_code == 200 and "De wijziging is ongedaan gemaakt" in undone.text
    db.session.expire_all()
    assert db.session.get(School, world["a"].id).region_id == old.id
    again = client.post(f"/regiobeheer/schoolgegevens/regio/wijzigingen/{change.id}/ongedaan", follow_redirects=True)
    assert "al ongedaan gemaakt" in again.text


def test_cli_assigns_through_the_gate(app, world):
    new = world["new"]
    leader = factories.user(Role.PROGRAMME_LEADER, region=new)
    db.session.commit()
    runner = app.test_cli_runner()
    refused = runner.invoke(
        args=["schools", "assign-region", "--region", new.code, "--municipality", "1509", "--by", leader.email]
    )
    assert refused.exit_code != 0 and "Dit mag alleen een beheerder" in refused.output
    assert db.session.scalar(select(func.count(RegionChange.id))) == 0
    ok = runner.invoke(
        args=["schools", "assign-region", "--region", new.code, "--municipality", "1509", "--by", world["admin"].email]
    )
    assert ok.exit_code == 0, ok.output
    assert "2 schools assigned" in ok.output
    db.session.expire_all()
    assert db.session.get(School, world["a"].id).region_id == new.id
    assert db.session.scalar(select(func.count(SchoolRegion.id))) == 4  # dated memberships, as the page makes
