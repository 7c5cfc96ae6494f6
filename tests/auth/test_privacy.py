"""Privacy: my data (view, export, delete), the retention job, no pupil-level data anywhere."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select, update

from app.auth.jobs import apply_retention
from app.auth.models import ApiToken, LoginAttempt, LoginSession, PasswordResetToken, Role, User
from app.booking import services
from app.booking.models import Booking, BookingEvent
from app.db import utcnow
from app.extensions import db
from tests import factories


def _booked():
    """A teacher who booked a class; a coordinator who cancelled another booking of theirs."""
    region = factories.region()
    venue = factories.venue(region)
    offer = factories.offer(region, venue, capacity_classes=2)
    session = factories.session(offer)
    school = factories.school(region)
    teacher = factories.teacher(school, email="juf.anna@example.org")
    teacher.name = "Anna de Vries"
    coord = factories.user(Role.COORDINATOR, region=region, venues=[venue])
    booking = services.create_booking(
        teacher,
        session.id,
        services.ClassDetails(
            school.id, "7", 24, 2, contact_name="Anna de Vries", contact_email="juf.anna@example.org"
        ),
    )
    other = services.create_booking(
        teacher,
        factories.session(offer).id,
        services.ClassDetails(
            school.id, "8", 20, 2, contact_name="Anna de Vries", contact_email="juf.anna@example.org"
        ),
    )
    services.cancel_booking(coord, other.id, "ziek")
    factories.api_token(teacher)
    db.session.commit()
    return teacher, coord, booking


def test_my_data_page_shows_what_is_stored(client, app, login):
    teacher, _coord, _booking = _booked()
    login(teacher)
    page = client.get("/mijn-account/")
    assert page.status_code == 200
    for text in (
        "juf.anna@example.org",
        "Anna de Vries",
        "Leerkracht",
        "Download al uw gegevens",
        "Account verwijderen",
        "API-sleutels: 1",
    ):
        assert text in page.text, text
    assert "Mijn gegevens" in client.get("/").text


def test_export_as_json(client, app, login):
    teacher, _coord, booking = _booked()
    login(teacher)
    resp = client.get("/mijn-account/gegevens.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["Cache-Control"] == "no-store"
    data = json.loads(resp.data)
    assert data["account"]["email"] == "juf.anna@example.org" and data["account"]["role"] == "teacher"
    assert {b["id"] for b in data["bookings"]} >= {booking.id}
    assert all(b["pupils"] for b in data["bookings"])
    assert data["api_tokens"][0]["prefix"].startswith("tlb_") and "token_hash" not in json.dumps(data)
    assert "password" not in json.dumps(data)
    assert {e["action"] for e in data["booking_events"]} >= {"create"}


def test_delete_account_keeps_counts_and_loses_the_person(client, app, login):
    teacher, coord, booking = _booked()
    teacher_id, booking_id = teacher.id, booking.id
    login(teacher)
    wrong = client.post("/mijn-account/verwijderen", data={"password": "niet mijn wachtwoord"})
    assert wrong.status_code == 422 and "wachtwoord klopt niet" in wrong.text
    assert client.get("/mijn-account/verwijderen").status_code == 200
    resp = client.post("/mijn-account/verwijderen", data={"password": factories.PASSWORD})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, teacher_id) is None
    kept = db.session.get(Booking, booking_id)
    assert kept.pupils == 24 and kept.adults == 2 and kept.groep_label == "7"
    assert kept.contact_user_id is None and kept.contact_name == "" and kept.contact_email == ""
    assert db.session.scalars(select(Booking).where(Booking.contact_email == "juf.anna@example.org")).all() == []
    events = db.session.scalars(select(BookingEvent)).all()
    assert events and all(e.actor_id != teacher_id for e in events)
    assert any(e.actor_id == coord.id for e in events)  # other people's audit entries stay
    assert db.session.scalar(select(ApiToken.id)) is None
    # signed out, and the account no longer signs in
    assert client.get("/mijn-account/").status_code == 302
    assert (
        client.post("/inloggen", data={"email": "juf.anna@example.org", "password": factories.PASSWORD}).status_code
        == 401
    )


def test_the_last_administrator_cannot_delete_themselves(client, app, login):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    resp = client.post("/mijn-account/verwijderen", data={"password": factories.PASSWORD})
    assert resp.status_code == 422 and "laatste beheerder" in resp.text


def test_retention_job_removes_inactive_accounts_and_old_security_records(app):
    teacher, coord, booking = _booked()
    now = utcnow()
    old = now - timedelta(days=app.config["RETENTION_DAYS"] + 1)
    teacher.created_at = teacher.last_login_at = teacher.last_seen_at = old
    admin = factories.user(Role.ADMIN)
    admin.created_at = old
    coord.last_login_at = now - timedelta(days=10)
    db.session.add_all(
        [
            PasswordResetToken(
                user_id=coord.id, token_hash="a" * 64, created_at=old, expires_at=old + timedelta(hours=1)
            ),
            PasswordResetToken(
                user_id=coord.id, token_hash="b" * 64, created_at=now, expires_at=now + timedelta(hours=1)
            ),
            LoginAttempt(key="ip:10.0.0.1", at=now - timedelta(days=2)),
            LoginAttempt(key="ip:10.0.0.1", at=now),
        ]
    )
    teacher_id, coord_id, admin_id, booking_id = teacher.id, coord.id, admin.id, booking.id
    db.session.commit()

    result = apply_retention(now)
    db.session.commit()
    assert result.startswith("1 accounts removed")
    db.session.expire_all()
    assert db.session.get(User, teacher_id) is None
    assert db.session.get(User, coord_id) is not None and db.session.get(User, admin_id) is not None
    kept = db.session.get(Booking, booking_id)
    assert kept.pupils == 24 and kept.contact_email == "" and kept.contact_name == ""
    assert [t.token_hash for t in db.session.scalars(select(PasswordResetToken))] == ["b" * 64]
    assert (
        db.session.scalars(select(LoginAttempt.at)).all() != []
        and len(db.session.scalars(select(LoginAttempt)).all()) == 1
    )
    # safe to run twice
    assert apply_retention(now).startswith("0 accounts removed, 0 reset links, 0 sign-in attempts")
    db.session.commit()


def test_retention_job_is_scheduled(app):
    from app.scheduler import all_jobs

    assert "auth.retention" in all_jobs()


PUPIL_WORDS = re.compile(
    r"pupil_name|leerling_?naam|first_?name|last_?name|surname|birth|geboorte|bsn|"
    r"citizen|nationality|ethnic|religion|pupil_id|student_id|photo|address_of_pupil",
    re.I,
)


def test_no_model_has_columns_for_pupil_level_data(app):
    suspicious = [
        f"{t.name}.{c.name}" for t in db.metadata.sorted_tables for c in t.columns if PUPIL_WORDS.search(c.name)
    ]
    assert suspicious == []
    # what pupils the platform knows, it knows as counts
    counts = {c.name for c in Booking.__table__.columns if "pupil" in c.name or c.name in ("girls", "boys")}
    assert counts == {"pupils", "attended_pupils", "girls", "boys"}
    assert all(str(Booking.__table__.c[n].type) == "INTEGER" for n in counts)


def test_privacy_statement_says_what_why_how_long_who_and_rights(client, app):
    page = client.get("/privacy")
    assert page.status_code == 200
    for text in (
        "Wat wij bewaren",
        "Waarom",
        "Wie het ziet",
        "Hoe lang",
        "Uw rechten",
        "Geen namen",
        f"{app.config['RETENTION_DAYS']} dagen",
        "Inzage",
        "Export",
        "Verwijdering",
    ):
        assert text in page.text, text
    english = client.get("/privacy?lang=en")
    assert "What we store" in english.text and "Your rights" in english.text


def _sign_in_by_link(client, mailbox, drain_outbox, email):
    client.post("/inloglink", data={"email": email})
    drain_outbox()
    body = mailbox[-1].get_body(("plain",)).get_content()
    path = "/" + re.search(r"http://\S+/inloglink/(\S+)", body).group(0).split("/", 3)[3]
    assert client.post(path).status_code == 302


def test_an_account_without_a_password_deletes_itself_after_a_fresh_sign_in(client, app, mailbox, drain_outbox):
    teacher = factories.teacher(factories.school(factories.region()), email="meester.bas@example.org")
    teacher.password_hash = None  # signs in with the school account or an e-mail link
    db.session.commit()
    teacher_id = teacher.id
    _sign_in_by_link(client, mailbox, drain_outbox, "meester.bas@example.org")
    page = client.get("/mijn-account/verwijderen").text
    assert 'name="email"' in page and 'name="password"' not in page
    wrong = client.post("/mijn-account/verwijderen", data={"email": "iemand.anders@example.org"})
    assert wrong.status_code == 422 and "e-mailadres van uw account" in wrong.text
    # a sign-in of more than 15 minutes ago does not delete: sign in again first
    db.session.execute(update(LoginSession).values(created_at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    stale = client.post("/mijn-account/verwijderen", data={"email": "meester.bas@example.org"})
    assert stale.status_code == 422 and "opnieuw in" in stale.text
    db.session.expire_all()
    assert db.session.get(User, teacher_id) is not None
    _sign_in_by_link(client, mailbox, drain_outbox, "meester.bas@example.org")
    resp = client.post("/mijn-account/verwijderen", data={"email": "Meester.Bas@example.org "})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, teacher_id) is None


def test_an_account_with_a_password_still_needs_it(client, app, login):
    teacher = factories.teacher(factories.school(factories.region()))
    db.session.commit()
    login(teacher)
    resp = client.post("/mijn-account/verwijderen", data={"email": teacher.email})
    assert resp.status_code == 422 and "Vul uw wachtwoord in" in resp.text
    db.session.expire_all()
    assert db.session.get(User, teacher.id) is not None
