"""Accounts: invitations by mail, the list and its filters, changing roles, deactivating,
who may manage whom, and the last administrator."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.admin import services
from app.auth.models import ApiToken, PasswordResetToken, Role, User
from app.errors import DomainError, PermissionDeniedError
from app.extensions import db
from tests import factories

NEW_PASSWORD = "een lang nieuw wachtwoord"


def _invitation_path(mailbox) -> str:
    from app.outbox.worker import drain

    db.session.commit()
    drain()  # the worker sends the mail after the commit
    assert len(mailbox) == 1, [m["Subject"] for m in mailbox]
    body = mailbox[0].get_body(("plain",)).get_content()
    return "/" + re.search(r"http://\S+?/(uitnodiging/\S+)", body).group(1)


def _region_with_people():
    region = factories.region()
    school, venue = factories.school(region), factories.venue(region)
    return region, school, venue


def test_admin_invites_a_teacher_whose_link_sets_the_password_and_signs_in(
    client, app, login, mailbox, drain_outbox, caplog
):
    region, school, _venue = _region_with_people()
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    page = client.get(f"/regiobeheer/gebruikers/nieuw?region={region.id}")
    assert page.status_code == 200 and school.name in page.text
    with caplog.at_level(logging.INFO, logger="app.audit"):
        resp = client.post(
            "/regiobeheer/gebruikers/nieuw",
            data={
                "email": "Juf.Anna@Example.org",
                "name": "Anna",
                "role": "teacher",
                "region": region.id,
                "school": school.id,
                "locale": "nl",
            },
        )
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "juf.anna@example.org"))
    assert user.role == Role.TEACHER and user.school_id == school.id and user.region_id == region.id
    assert user.password_hash is None and user.active
    assert any(
        "invited" in r.getMessage() and str(admin.id) in r.getMessage() for r in caplog.records if r.name == "app.audit"
    )

    path = _invitation_path(mailbox)
    drain_outbox()
    assert mailbox[0]["To"] == "juf.anna@example.org" and "Uitnodiging" in mailbox[0]["Subject"]
    drain_outbox()
    assert "Anna" in mailbox[0].get_body(("plain",)).get_content()
    token = db.session.scalars(select(PasswordResetToken).where(PasswordResetToken.user_id == user.id)).one()
    assert timedelta(days=6) < token.expires_at - token.created_at <= timedelta(days=7)

    invited = app.test_client()
    page = invited.get(path)
    assert page.status_code == 200 and "juf.anna@example.org" in page.text
    assert invited.post(path, data={"password": "kort", "confirm": "kort"}).status_code == 422
    done = invited.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert invited.get("/boekingen/").status_code == 200  # signed in, as the teacher
    # the link works once
    assert invited.get(path).status_code == 404
    fresh = app.test_client()
    assert fresh.post("/inloggen", data={"email": "juf.anna@example.org", "password": NEW_PASSWORD}).status_code == 302


def test_invitation_refuses_bad_input_and_sends_nothing(client, app, login, mailbox, drain_outbox):
    region, school, venue = _region_with_people()
    other_region, other_school, other_venue = _region_with_people()
    admin = factories.user(Role.ADMIN)
    existing = factories.teacher(school, email="bestaat@example.org")
    db.session.commit()
    login(admin)
    cases = [
        (
            {"email": "geen-adres", "role": "teacher", "region": region.id, "school": school.id},
            "Geen geldig e-mailadres",
        ),
        (
            {"email": existing.email, "role": "teacher", "region": region.id, "school": school.id},
            "bestaat al een account",
        ),
        ({"email": "x@example.org", "role": "teacher", "region": region.id, "school": 0}, "hoort bij een school"),
        # a school of another region is not among the choices of this region
        ({"email": "x@example.org", "role": "teacher", "region": region.id, "school": other_school.id}, "keuze"),
        ({"email": "x@example.org", "role": "coordinator", "region": region.id, "venues": [other_venue.id]}, "keuze"),
        ({"email": "x@example.org", "role": "coordinator", "region": 0}, "Kies een regio"),
    ]
    for data, message in cases:
        resp = client.post("/regiobeheer/gebruikers/nieuw", data={"locale": "nl", **data})
        assert resp.status_code == 422 and message.lower() in resp.text.lower(), (data, resp.status_code)
    drain_outbox()
    assert mailbox == []
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_choosing_a_region_shows_its_schools_without_saving(client, app, login, mailbox, drain_outbox):
    region, school, venue = _region_with_people()
    _other, other_school, _v = _region_with_people()
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    resp = client.post(
        "/regiobeheer/gebruikers/nieuw",
        data={"email": "x@example.org", "role": "teacher", "region": _other.id, "pick_region": "1", "locale": "nl"},
    )
    assert resp.status_code == 200 and other_school.name in resp.text and school.name not in resp.text
    drain_outbox()
    assert mailbox == [] and db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_programme_leader_invites_in_their_own_region_only(client, app, login, mailbox, drain_outbox):
    region, school, venue = _region_with_people()
    other_region, _s, other_venue = _region_with_people()
    leader = factories.user(Role.PROGRAMME_LEADER, region=region)
    db.session.commit()
    login(leader)
    page = client.get("/regiobeheer/gebruikers/nieuw")
    assert page.status_code == 200 and other_region.name not in page.text
    assert 'value="admin"' not in page.text
    ok = client.post(
        "/regiobeheer/gebruikers/nieuw",
        data={
            "email": "coord@example.org",
            "role": "coordinator",
            "region": region.id,
            "venues": [venue.id],
            "locale": "en",
        },
    )
    assert ok.status_code == 302
    coord = db.session.scalar(select(User).where(User.email == "coord@example.org"))
    assert coord.role == Role.COORDINATOR and [v.id for v in coord.venues] == [venue.id] and coord.locale == "en"
    drain_outbox()
    assert "Invitation" in mailbox[0]["Subject"]  # in the invited person's language
    # not an administrator, not another region
    assert (
        client.post(
            "/regiobeheer/gebruikers/nieuw",
            data={"email": "baas@example.org", "role": "admin", "region": region.id, "locale": "nl"},
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/regiobeheer/gebruikers/nieuw",
            data={"email": "ander@example.org", "role": "coordinator", "region": other_region.id, "locale": "nl"},
        ).status_code
        == 422
    )
    assert db.session.scalar(select(User).where(User.email.in_(["baas@example.org", "ander@example.org"]))) is None
    # and the service holds the same rules, whatever a form sends
    with pytest.raises(PermissionDeniedError):
        services.invite_user(leader, "baas@example.org", services.Assignment(Role.ADMIN, None))
    with pytest.raises(PermissionDeniedError):
        services.invite_user(leader, "ander@example.org", services.Assignment(Role.COORDINATOR, other_region))
    with pytest.raises(DomainError, match="locatie hoort niet"):
        services.invite_user(
            leader, "c2@example.org", services.Assignment(Role.COORDINATOR, region, venues=[other_venue])
        )


def test_who_may_manage_whom(client, app, login):
    region, school, venue = _region_with_people()
    other_region, other_school, _v = _region_with_people()
    leader = factories.user(Role.PROGRAMME_LEADER, region=region)
    teacher = factories.teacher(school)
    coordinator = factories.user(Role.COORDINATOR, region=region, venues=[venue])
    other_teacher = factories.teacher(other_school)
    regional_admin = factories.user(Role.ADMIN, region=region)  # an administrator, though in this region
    db.session.commit()

    login(leader)
    assert client.get(f"/regiobeheer/gebruikers/{teacher.id}").status_code == 200
    assert client.get(f"/regiobeheer/gebruikers/{other_teacher.id}").status_code == 404
    assert client.post(f"/regiobeheer/gebruikers/{other_teacher.id}/deactiveren").status_code == 404
    assert client.get(f"/regiobeheer/gebruikers/{regional_admin.id}").status_code == 403
    assert client.post(f"/regiobeheer/gebruikers/{regional_admin.id}/deactiveren").status_code == 403
    assert db.session.get(User, other_teacher.id).active and db.session.get(User, regional_admin.id).active
    listing = client.get("/regiobeheer/gebruikers")
    assert teacher.email in listing.text and coordinator.email in listing.text
    assert other_teacher.email not in listing.text and regional_admin.email not in listing.text
    client.post("/uitloggen")

    for person in (teacher, coordinator):
        login(person)
        for url in (
            "/regiobeheer/",
            "/regiobeheer/gebruikers",
            "/regiobeheer/gebruikers/nieuw",
            f"/regiobeheer/gebruikers/{teacher.id}",
        ):
            assert client.get(url).status_code == 403, (person.role, url)
        assert client.post(f"/regiobeheer/gebruikers/{teacher.id}/deactiveren").status_code == 403
        client.post("/uitloggen")
    assert db.session.get(User, teacher.id).active


def test_list_filters(client, app, login):
    region, school, venue = _region_with_people()
    other_region, other_school, _v = _region_with_people()
    admin = factories.user(Role.ADMIN, email="baas@example.org")
    factories.teacher(school, email="anna@school.example")
    bram = factories.teacher(other_school, email="bram@school.example")
    factories.user(Role.COORDINATOR, region=region, venues=[venue], email="coord@lab.example")
    bram.active = False
    db.session.commit()
    login(admin)

    def emails(**args):
        resp = client.get("/regiobeheer/gebruikers", query_string=args)
        assert resp.status_code == 200
        return {
            e
            for e in ("baas@example.org", "anna@school.example", "bram@school.example", "coord@lab.example")
            if f">{e}<" in resp.text
        }

    assert emails() == {"baas@example.org", "anna@school.example", "bram@school.example", "coord@lab.example"}
    assert emails(role="teacher") == {"anna@school.example", "bram@school.example"}
    assert emails(region=region.id) == {"anna@school.example", "coord@lab.example"}
    assert emails(region=region.id, school=school.id) == {"anna@school.example"}
    assert emails(active="0") == {"bram@school.example"}
    assert emails(active="1", email="SCHOOL") == {"anna@school.example"}
    assert emails(email="%") == set()  # a wildcard is a plain character
    assert emails(role="nonsense") == {
        "baas@example.org",
        "anna@school.example",
        "bram@school.example",
        "coord@lab.example",
    }  # a bad filter is ignored, not a 500


def test_change_role_school_and_venues(client, app, login):
    region, school, venue = _region_with_people()
    venue2 = factories.venue(region)
    admin = factories.user(Role.ADMIN)
    teacher = factories.teacher(school)
    db.session.commit()
    login(admin)
    page = client.get(f"/regiobeheer/gebruikers/{teacher.id}")
    assert page.status_code == 200 and re.search(rf'<option selected value="{school.id}">', page.text)
    resp = client.post(
        f"/regiobeheer/gebruikers/{teacher.id}",
        data={
            "name": "Nu coördinator",
            "role": "coordinator",
            "region": region.id,
            "school": school.id,
            "venues": [venue.id, venue2.id],
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, teacher.id)
    assert (
        user.role == Role.COORDINATOR
        and user.school_id is None
        and {v.id for v in user.venues} == {venue.id, venue2.id}
    )
    assert user.name == "Nu coördinator"
    # back to teacher needs a school
    resp = client.post(
        f"/regiobeheer/gebruikers/{teacher.id}", data={"role": "teacher", "region": region.id, "school": 0}
    )
    assert resp.status_code == 422 and "hoort bij een school" in resp.text
    db.session.expire_all()
    assert db.session.get(User, teacher.id).role == Role.COORDINATOR


def test_deactivated_user_cannot_sign_in_and_their_api_keys_stop(client, app, login):
    region, school, _venue = _region_with_people()
    leader = factories.user(Role.PROGRAMME_LEADER, region=region)
    teacher = factories.teacher(school)
    secret = factories.api_token(teacher)
    db.session.commit()
    teacher_client = app.test_client()
    assert (
        teacher_client.post("/inloggen", data={"email": teacher.email, "password": factories.PASSWORD}).status_code
        == 302
    )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    login(leader)
    resp = client.post(f"/regiobeheer/gebruikers/{teacher.id}/deactiveren", follow_redirects=True)
    assert resp.status_code == 200 and "gedeactiveerd" in resp.text
    db.session.expire_all()
    assert not db.session.get(User, teacher.id).active
    assert teacher_client.get("/boekingen/").status_code == 302  # the open session has ended
    assert (
        app.test_client().post("/inloggen", data={"email": teacher.email, "password": factories.PASSWORD}).status_code
        == 401
    )
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401 and api.mimetype == "application/problem+json"

    client.post(f"/regiobeheer/gebruikers/{teacher.id}/activeren")
    db.session.expire_all()
    assert db.session.get(User, teacher.id).active
    assert (
        app.test_client().post("/inloggen", data={"email": teacher.email, "password": factories.PASSWORD}).status_code
        == 302
    )
    # the keys of before stay revoked: the person makes new ones
    assert db.session.scalars(select(ApiToken).where(ApiToken.user_id == teacher.id)).one().revoked_at is not None
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_resend_invitation_voids_the_older_link(client, app, login, mailbox, drain_outbox):
    region, school, _venue = _region_with_people()
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    client.post(
        "/regiobeheer/gebruikers/nieuw",
        data={
            "email": "nieuw@example.org",
            "role": "teacher",
            "region": region.id,
            "school": school.id,
            "locale": "nl",
        },
    )
    first = _invitation_path(mailbox)
    drain_outbox()
    mailbox.clear()
    user = db.session.scalar(select(User).where(User.email == "nieuw@example.org"))
    assert client.post(f"/regiobeheer/gebruikers/{user.id}/uitnodigen").status_code == 302
    second = _invitation_path(mailbox)
    assert first != second
    assert app.test_client().get(first).status_code == 404 and app.test_client().get(second).status_code == 200
    # someone with a password uses "forgotten password" instead
    teacher = factories.teacher(school)
    db.session.commit()
    drain_outbox()
    mailbox.clear()
    resp = client.post(f"/regiobeheer/gebruikers/{teacher.id}/uitnodigen", follow_redirects=True)
    drain_outbox()
    assert "heeft al een wachtwoord" in resp.text and mailbox == []
    assert client.post(f"/regiobeheer/gebruikers/{teacher.id}/iets-anders").status_code == 404


def test_the_last_active_administrator_cannot_be_removed(client, app, login):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    resp = client.post(
        f"/regiobeheer/gebruikers/{admin.id}", data={"role": "programme_leader", "region": factories.region().id}
    )
    assert resp.status_code == 422 and "laatste actieve beheerder" in resp.text
    resp = client.post(f"/regiobeheer/gebruikers/{admin.id}/deactiveren", follow_redirects=True)
    assert "laatste actieve beheerder" in resp.text
    db.session.expire_all()
    assert db.session.get(User, admin.id).active and db.session.get(User, admin.id).role == Role.ADMIN

    # with a second administrator one may go, but nobody takes away their own account or role
    second = factories.user(Role.ADMIN)
    db.session.commit()
    resp = client.post(f"/regiobeheer/gebruikers/{admin.id}/deactiveren", follow_redirects=True)
    assert "eigen account niet deactiveren" in resp.text
    assert client.post(f"/regiobeheer/gebruikers/{second.id}/deactiveren").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, second.id).active
    # a deactivated administrator can do nothing any more
    with pytest.raises(PermissionDeniedError):
        services.set_user_active(db.session.get(User, second.id), db.session.get(User, admin.id), False)


def _remove_each_other(app):
    """Two administrators deactivate each other in the same instant; the outcome per actor."""
    a, b = factories.user(Role.ADMIN), factories.user(Role.ADMIN)
    ids = (a.id, b.id)
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(2)
    outcome = {}

    def remove(actor_id, target_id):
        with app.app_context():
            barrier.wait()
            try:
                services.set_user_active(db.session.get(User, actor_id), db.session.get(User, target_id), False)
                db.session.commit()
                outcome[actor_id] = "removed"
            except DomainError as exc:
                db.session.rollback()
                outcome[actor_id] = exc.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=remove, args=ids), threading.Thread(target=remove, args=ids[::-1])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    active = db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True)))
    db.session.remove()
    return outcome, active


def test_two_administrators_removing_each_other_at_once_leave_one(app):
    """The lock on the administrators lets one win."""
    outcome, active = _remove_each_other(app)
    # the loser finds the other administrator's account locked and re-read: either it is the
    # last one now, or (when the loser's own account was read after the winner's commit) the
    # loser is no longer an active administrator at all
    assert sorted(outcome.values()) in (["last_admin", "removed"], ["forbidden", "removed"]), outcome
    assert active == 1


@pytest.mark.postgresql_only
def test_control_without_the_lock_both_administrators_go(app, backend):
    """The control case: with locking off, both read two active administrators, both remove the
    other, and nobody is left. SQLite cannot show this race (it serialises writers)."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race exists only where writers run in parallel")
    app.config.update(BOOKING_LOCKING=False, ADMIN_TEST_BARRIER=threading.Barrier(2))
    try:
        outcome, active = _remove_each_other(app)
    finally:
        app.config.update(BOOKING_LOCKING=True, ADMIN_TEST_BARRIER=None)
    assert sorted(outcome.values()) == ["removed", "removed"] and active == 0
