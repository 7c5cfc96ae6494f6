"""Sign-in sessions on the server: signing out ends a copied cookie; a new password ends every
session and revokes the API keys; tokens made on the command line expire like the others."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import ApiToken, LoginSession, User
from app.db import utcnow
from app.extensions import db
from tests import factories

NEW_PASSWORD = "een nieuw lang wachtwoord"


def _teacher():
    user = factories.teacher(factories.school(factories.region()))
    db.session.commit()
    return user


def _signed_in(app, user):
    c = app.test_client()
    assert c.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD}).status_code == 302
    return c


def _copy(app, client):
    """Another client carrying a copy of this client's session cookie (a stolen cookie)."""
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def _to_login(resp) -> bool:
    return resp.status_code == 302 and "/inloggen" in resp.headers["Location"]


def test_a_cookie_copied_before_logout_gets_the_sign_in_page_after_it(app):
    user = _teacher()
    browser, other_device = _signed_in(app, user), _signed_in(app, user)
    thief = _copy(app, browser)
    assert thief.get("/mijn-account/").status_code == 200  # control: the copy works while signed in
    assert browser.post("/uitloggen").status_code == 302
    assert _to_login(thief.get("/mijn-account/"))
    # nor can it make a 30-day API key
    made = thief.post("/mijn-account/api-sleutels", data={"name": "buit", "days": "30"})
    assert _to_login(made)
    assert db.session.scalar(select(ApiToken).where(ApiToken.name == "buit")) is None
    assert _to_login(browser.get("/mijn-account/"))
    assert other_device.get("/mijn-account/").status_code == 200  # signing out ends this session only
    ended = db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).all()
    assert sorted(s.ended_at is None for s in ended) == [False, True]


def test_a_password_change_ends_other_sessions_and_revokes_api_keys(app):
    user = _teacher()
    header = factories.auth_header(user)
    db.session.commit()
    browser, other_device = _signed_in(app, user), _signed_in(app, user)
    api = app.test_client()
    assert api.get("/api/v1/me", headers=header).status_code == 200
    old_cookie = _copy(app, browser)
    resp = browser.post(
        "/mijn-account/wachtwoord",
        data={"current_password": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert resp.status_code == 302
    assert browser.get("/mijn-account/").status_code == 200  # this browser goes on
    assert _to_login(other_device.get("/mijn-account/"))
    assert _to_login(old_cookie.get("/mijn-account/"))  # the cookie from before the change is dead too
    assert api.get("/api/v1/me", headers=header).status_code == 401
    db.session.expire_all()
    assert all(
        t.revoked_at is not None for t in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))
    )


def test_a_password_reset_revokes_api_keys_and_every_session(app, mailbox, drain_outbox):
    user = _teacher()
    header = factories.auth_header(user)
    db.session.commit()
    browser = _signed_in(app, user)
    anon = app.test_client()
    anon.post("/wachtwoord-vergeten", data={"email": user.email})
    drain_outbox()
    body = mailbox[-1].get_body(("plain",)).get_content()
    path = "/" + re.search(r"http://\S+/wachtwoord-herstellen/\S+", body).group(0).split("/", 3)[3]
    assert anon.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert app.test_client().get("/api/v1/me", headers=header).status_code == 401
    assert _to_login(browser.get("/mijn-account/"))
    fresh = app.test_client()
    assert fresh.post("/inloggen", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302
    new = fresh.post("/mijn-account/api-sleutels", data={"name": "nieuw", "days": "30"})
    assert new.status_code == 201  # new keys work again


def test_cli_tokens_expire_like_the_others(app, runner):
    user = _teacher()
    r = runner.invoke(args=["users", "create-token", "--email", user.email])
    assert r.exit_code == 0, r.output
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    days = app.config["API_TOKEN_DAYS"]
    assert token.expires_at is not None
    assert abs(token.expires_at - (utcnow() + timedelta(days=days))) < timedelta(minutes=5)
    r = runner.invoke(args=["users", "create-token", "--email", user.email, "--days", "7", "--name", "kort"])
    short = db.session.scalars(select(ApiToken).where(ApiToken.name == "kort")).one()
    assert abs(short.expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=5)
    r = runner.invoke(
        args=["users", "create-token", "--email", user.email, "--days", str(days + 100), "--name", "lang"]
    )
    long = db.session.scalars(select(ApiToken).where(ApiToken.name == "lang")).one()
    assert long.expires_at <= utcnow() + timedelta(days=days, minutes=5)
    assert db.session.get(User, user.id) is not None
