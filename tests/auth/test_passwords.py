"""Passwords: forgotten (reset by mail), changed, the policy, lockout after failures."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import LoginAttempt, PasswordResetToken, User
from app.auth.tokens import hash_token
from app.db import utcnow
from app.extensions import db
from tests import factories

NEW_PASSWORD = "een nieuw lang wachtwoord"


def _teacher(email="juf@example.org"):
    region = factories.region()
    school = factories.teacher(factories.school(region), email=email)
    db.session.commit()
    return school


def _link(mailbox) -> str:
    from app.outbox.worker import drain

    db.session.commit()
    drain()  # the worker sends the mail after the commit
    assert len(mailbox) == 1, [m["Subject"] for m in mailbox]
    body = mailbox[0].get_body(("plain",)).get_content()
    return re.search(r"http://\S+/wachtwoord-herstellen/(\S+)", body).group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_login_page_links_to_forgotten_password(client, app):
    page = client.get("/inloggen")
    assert 'href="/wachtwoord-vergeten"' in page.text and "Wachtwoord vergeten?" in page.text


def test_reset_by_mail_from_request_to_new_password(client, app, mailbox, drain_outbox):
    user = _teacher()
    resp = client.post("/wachtwoord-vergeten", data={"email": "JUF@example.org"}, follow_redirects=True)
    assert resp.status_code == 200 and "Als dit e-mailadres bij ons bekend is" in resp.text
    link = _link(mailbox)
    drain_outbox()
    assert mailbox[0]["To"] == "juf@example.org"
    secret = link.rsplit("/", 1)[1]
    stored = db.session.scalars(select(PasswordResetToken)).one()
    assert stored.token_hash == hash_token(secret) and secret not in stored.token_hash
    assert timedelta(minutes=59) < stored.expires_at - stored.created_at <= timedelta(hours=1)

    assert client.get(_path(link)).status_code == 200
    weak = client.post(_path(link), data={"password": "kort", "confirm": "kort"})
    assert weak.status_code == 422 and "minstens 12 tekens" in weak.text
    same = client.post(_path(link), data={"password": "juf@example.org", "confirm": "juf@example.org"})
    assert same.status_code == 422 and "niet gelijk is aan uw e-mailadres" in same.text
    differ = client.post(_path(link), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 422

    done = client.post(_path(link), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/inloggen")
    # single use
    assert client.get(_path(link)).status_code == 404
    again = client.post(
        _path(link), data={"password": "nog een ander wachtwoord", "confirm": "nog een ander wachtwoord"}
    )
    assert again.status_code == 404
    assert client.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD}).status_code == 401
    assert client.post("/inloggen", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_unknown_address_gets_the_same_answer_and_no_mail(client, app, mailbox, drain_outbox):
    _teacher()
    known = client.post("/wachtwoord-vergeten", data={"email": "juf@example.org"})
    unknown = client.post("/wachtwoord-vergeten", data={"email": "niemand@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    drain_outbox()
    assert [m["To"] for m in mailbox] == ["juf@example.org"]


def test_newer_link_voids_the_older_one(client, app, mailbox, drain_outbox):
    _teacher()
    client.post("/wachtwoord-vergeten", data={"email": "juf@example.org"})
    first = _link(mailbox)
    drain_outbox()
    mailbox.clear()
    client.post("/wachtwoord-vergeten", data={"email": "juf@example.org"})
    second = _link(mailbox)
    assert first != second
    assert client.get(_path(first)).status_code == 404
    assert client.get(_path(second)).status_code == 200


def test_expired_link_is_refused(client, app, mailbox, drain_outbox):
    _teacher()
    client.post("/wachtwoord-vergeten", data={"email": "juf@example.org"})
    link = _link(mailbox)
    token = db.session.scalars(select(PasswordResetToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = client.post(_path(link), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 404 and "verlopen" in resp.text
    assert client.get("/wachtwoord-herstellen/" + "x" * 300).status_code == 404


def test_reset_requests_are_throttled(client, app, mailbox, drain_outbox):
    _teacher()
    for _ in range(5):
        assert client.post("/wachtwoord-vergeten", data={"email": "juf@example.org"}).status_code == 302
    # at most PASSWORD_RESET_MAX_PER_HOUR mails per account, silently
    drain_outbox()
    assert len(mailbox) == app.config["PASSWORD_RESET_MAX_PER_HOUR"]
    app.config["PASSWORD_RESET_MAX_PER_IP_HOUR"] = 6
    try:
        # five requests came from this address; the sixth passes, the seventh is refused
        assert client.post("/wachtwoord-vergeten", data={"email": "iemand@example.org"}).status_code == 302
        refused = client.post("/wachtwoord-vergeten", data={"email": "iemand@example.org"})
        assert refused.status_code == 429 and "Te veel aanvragen" in refused.text
    finally:
        app.config["PASSWORD_RESET_MAX_PER_IP_HOUR"] = 20


def test_reset_clears_lockout_and_signs_out_other_sessions(app, mailbox, drain_outbox):
    user = _teacher()
    other_device = app.test_client()
    assert other_device.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD}).status_code == 302
    assert other_device.get("/mijn-account/").status_code == 200
    client = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/inloggen", data={"email": user.email, "password": "fout-fout-fout"})
    assert client.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD}).status_code == 429
    client.post("/wachtwoord-vergeten", data={"email": user.email})
    link = _link(mailbox)
    assert client.post(_path(link), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.failed_logins == 0 and user.locked_until is None
    assert client.post("/inloggen", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302
    # the session made before the reset has ended
    resp = other_device.get("/mijn-account/")
    assert resp.status_code == 302 and "/inloggen" in resp.headers["Location"]


def test_change_password_keeps_this_session_and_ends_the_others(app, login):
    user = _teacher()
    other_device = app.test_client()
    other_device.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD})
    client = login(user)
    assert client.get("/mijn-account/wachtwoord").status_code == 200
    wrong = client.post(
        "/mijn-account/wachtwoord",
        data={"current_password": "niet het wachtwoord", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and "huidige wachtwoord klopt niet" in wrong.text
    weak = client.post(
        "/mijn-account/wachtwoord", data={"current_password": factories.PASSWORD, "password": "kort", "confirm": "kort"}
    )
    assert weak.status_code == 422
    ok = client.post(
        "/mijn-account/wachtwoord",
        data={"current_password": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert ok.status_code == 302
    assert client.get("/mijn-account/").status_code == 200
    assert other_device.get("/mijn-account/").status_code == 302
    fresh = app.test_client()
    assert fresh.post("/inloggen", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_a_session_id_without_the_current_version_is_refused(app):
    from app.auth.views import load_user

    from app.auth.services import start_session

    user = _teacher()
    sid = start_session(user)
    db.session.commit()
    assert load_user(user.get_id()) is not None and user.get_id().endswith(":" + sid)
    assert load_user(str(user.id)) is None  # the old form, without a version
    assert load_user(f"{user.id}:{user.session_version}") is None  # without a sign-in session
    assert load_user(f"{user.id}:{user.session_version + 1}:{sid}") is None
    assert load_user(f"{user.id}:{user.session_version}:not-a-session") is None
    assert load_user("x:y") is None and load_user("") is None


def test_lockout_locks_the_account_for_a_while_and_says_so(client, app, caplog):
    user = _teacher()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/inloggen", data={"email": user.email, "password": "fout-fout-fout"}).status_code == 401
    db.session.expire_all()
    locked = db.session.get(User, user.id)
    assert locked.locked_until is not None and locked.locked_until > utcnow() + timedelta(minutes=14)
    resp = client.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD})
    assert resp.status_code == 429 and "Probeer het over 15 minuten opnieuw" in resp.text
    assert any("locked" in r.getMessage() for r in caplog.records if r.name == "app.audit")
    # after the lockout time (and the counting window) the right password works again
    locked.locked_until = utcnow() - timedelta(seconds=1)
    for attempt in db.session.scalars(select(LoginAttempt)):
        attempt.at = utcnow() - timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
    db.session.commit()
    assert client.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD}).status_code == 302


def test_unknown_accounts_are_throttled_like_known_ones(client, app):
    _teacher()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/inloggen", data={"email": "niemand@example.org", "password": "fout-fout-fout"})
    assert client.post("/inloggen", data={"email": "niemand@example.org", "password": "x" * 12}).status_code == 429
