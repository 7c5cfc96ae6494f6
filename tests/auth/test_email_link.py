"""Sign-in by e-mail link (issue 18 point 3): single use, 15 minutes, the same answer and the
same work for known and unknown addresses, throttled like the password reset."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.auth.email_link import use_login_link
from app.auth.models import PasswordResetToken, Role, TokenPurpose
from app.auth.tokens import hash_token
from app.db import utcnow
from app.extensions import db
from tests import factories
from tests.auth.test_reset_timing import request_work


def _teacher(email="meester@example.org"):
    user = factories.teacher(factories.school(factories.region()), email=email)
    db.session.commit()
    return user


def _link_path(mailbox, drain_outbox) -> str:
    drain_outbox()
    assert len(mailbox) == 1, [m["Subject"] for m in mailbox]
    body = mailbox[0].get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/inloglink/(\S+)", body).group(0)
    return "/" + link.split("/", 3)[3]


def test_login_page_offers_the_link(client, app):
    page = client.get("/inloggen")
    assert 'href="/inloglink"' in page.text and "Stuur mij een inloglink" in page.text


def test_link_signs_in_once_and_is_stored_hashed(client, app, mailbox, drain_outbox):
    user = _teacher()
    resp = client.post("/inloglink", data={"email": "MEESTER@example.org"}, follow_redirects=True)
    assert resp.status_code == 200 and "Als dit e-mailadres bij ons bekend is" in resp.text
    path = _link_path(mailbox, drain_outbox)
    assert mailbox[0]["To"] == user.email
    secret = path.rsplit("/", 1)[1]
    stored = db.session.scalars(select(PasswordResetToken)).one()
    assert stored.purpose == TokenPurpose.LOGIN and stored.token_hash == hash_token(secret)
    assert stored.expires_at - stored.created_at == timedelta(minutes=15)

    # opening the link (a mail scanner does that too) uses nothing; the button signs in
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200
    assert client.get("/boekingen/").status_code == 302  # not signed in yet
    done = client.post(path)
    assert done.status_code == 302
    assert client.get("/boekingen/").status_code == 200  # signed in, through the sign-in session handling
    db.session.expire_all()
    assert stored.used_at is not None and user.last_login_at is not None
    # single use: in another browser the link no longer works
    other = app.test_client()
    assert other.get(path).status_code == 404
    assert other.post(path).status_code == 404
    assert other.get("/boekingen/").status_code == 302


def test_link_expires_after_fifteen_minutes(client, app, mailbox, drain_outbox):
    user = _teacher()
    client.post("/inloglink", data={"email": user.email})
    path = _link_path(mailbox, drain_outbox)
    stored = db.session.scalars(select(PasswordResetToken)).one()
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404
    assert client.get("/boekingen/").status_code == 302


def test_a_link_is_no_password_link_and_back(client, app, mailbox, drain_outbox):
    """A sign-in link sets no password, and a reset link signs nobody in."""
    user = _teacher()
    client.post("/inloglink", data={"email": user.email})
    path = _link_path(mailbox, drain_outbox)
    secret = path.rsplit("/", 1)[1]
    assert client.get(f"/wachtwoord-herstellen/{secret}").status_code == 404
    assert client.get(f"/uitnodiging/{secret}").status_code == 404
    mailbox.clear()
    client.post("/wachtwoord-vergeten", data={"email": user.email})
    drain_outbox()
    reset = re.search(r"/wachtwoord-herstellen/(\S+)", mailbox[0].get_body(("plain",)).get_content()).group(1)
    assert client.get(f"/inloglink/{reset}").status_code == 404
    assert client.post(f"/inloglink/{reset}").status_code == 404


def test_unknown_address_gets_the_same_answer_and_no_mail(client, app, mailbox, drain_outbox):
    _teacher()
    known = client.post("/inloglink", data={"email": "meester@example.org"})
    unknown = client.post("/inloglink", data={"email": "niemand@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    drain_outbox()
    assert [m["To"] for m in mailbox] == ["meester@example.org"]


def test_only_the_school_roles_get_a_link(client, app, mailbox, drain_outbox):
    region = factories.region()
    coordinator = factories.user(Role.COORDINATOR, region=region)
    school_coordinator = factories.user(Role.SCHOOL_COORDINATOR, region=region, school=factories.school(region))
    db.session.commit()
    assert client.post("/inloglink", data={"email": coordinator.email}).status_code == 302
    assert client.post("/inloglink", data={"email": school_coordinator.email}).status_code == 302
    drain_outbox()
    assert [m["To"] for m in mailbox] == [school_coordinator.email]


def test_known_and_unknown_addresses_do_the_same_work(client, app):
    user = _teacher()
    known = request_work(app, client, "/inloglink", user.email, "10.3.0.1")
    unknown = request_work(app, client, "/inloglink", "niemand@example.org", "10.3.0.2")
    assert known["mail_templates"] == unknown["mail_templates"] == ["auth/mail/login_link.txt"]
    extra = {k: known["sql"].get(k, 0) - unknown["sql"].get(k, 0) for k in set(known["sql"]) | set(unknown["sql"])}
    assert {k: v for k, v in extra.items() if v} in ({}, {"INSERT": 2}), (known["sql"], unknown["sql"])


def test_throttled_per_address_and_per_account(client, app, mailbox, drain_outbox):
    user = _teacher()
    app.config.update(LOGIN_LINK_MAX_PER_IP_HOUR=4)
    try:
        answers = [
            client.post("/inloglink", data={"email": user.email}, environ_base={"REMOTE_ADDR": "10.4.0.1"}).status_code
            for _ in range(5)
        ]
    finally:
        app.config.update(LOGIN_LINK_MAX_PER_IP_HOUR=20)
    assert answers == [302, 302, 302, 302, 429]
    drain_outbox()
    assert len(mailbox) == 3  # LOGIN_LINK_MAX_PER_HOUR per account; the fourth is silently not sent
    # a newer link voids the older ones: only the last one still works
    valid = db.session.scalars(select(PasswordResetToken).where(PasswordResetToken.used_at.is_(None))).all()
    assert len(valid) == 1


def test_two_uses_of_one_link_sign_in_once(client, app, mailbox, drain_outbox):
    user = _teacher()
    client.post("/inloglink", data={"email": user.email})
    secret = _link_path(mailbox, drain_outbox).rsplit("/", 1)[1]
    assert use_login_link(secret).id == user.id
    db.session.commit()
    import pytest

    from app.auth.email_link import InvalidLinkError

    with pytest.raises(InvalidLinkError):
        use_login_link(secret)


def test_the_link_secret_is_never_logged():
    from app.ops.logs import redact_path

    assert redact_path("GET /inloglink/s3cr3t-link?x=1 200") == "GET /inloglink/<redacted>?x=1 200"
    assert redact_path("/inloglink") == "/inloglink"
