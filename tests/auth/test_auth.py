"""Sign-in, throttling, tokens, the users CLI, cookies and CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import ApiToken, User
from app.config import ConfigError, load_config
from app.extensions import db
from tests import factories


def _teacher():
    region = factories.region()
    school = factories.school(region)
    user = factories.teacher(school, email="juf@example.org")
    db.session.commit()
    return user


def test_login_and_logout(client, app):
    _teacher()
    resp = client.post("/inloggen", data={"email": "JUF@example.org ", "password": factories.PASSWORD})
    assert resp.status_code == 302
    assert "Uitloggen" in client.get("/").text
    assert client.post("/uitloggen").status_code == 302
    assert "Inloggen" in client.get("/").text


def test_same_message_for_unknown_account_and_wrong_password(client, app):
    _teacher()
    a = client.post("/inloggen", data={"email": "juf@example.org", "password": "fout-wachtwoord"})
    b = client.post("/inloggen", data={"email": "niemand@example.org", "password": "fout-wachtwoord"})
    assert a.status_code == b.status_code == 401
    assert "Onbekend e-mailadres of onjuist wachtwoord." in a.text and "Onbekend e-mailadres" in b.text


def test_throttle_per_account(client, app):
    _teacher()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/inloggen", data={"email": "juf@example.org", "password": "x" * 12}).status_code == 401
    resp = client.post("/inloggen", data={"email": "juf@example.org", "password": factories.PASSWORD})
    assert resp.status_code == 429 and "Te veel mislukte pogingen" in resp.text


def test_throttle_per_address(client, app):
    _teacher()
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    try:
        for i in range(3):
            client.post("/inloggen", data={"email": f"iemand{i}@example.org", "password": "x" * 12})
        resp = client.post("/inloggen", data={"email": "juf@example.org", "password": factories.PASSWORD})
        assert resp.status_code == 429
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_IP"] = 50


def test_inactive_user_cannot_sign_in(client, app):
    user = _teacher()
    user.active = False
    db.session.commit()
    assert (
        client.post("/inloggen", data={"email": "juf@example.org", "password": factories.PASSWORD}).status_code == 401
    )


def test_csrf_is_enforced(client, app):
    _teacher()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        resp = client.post("/inloggen", data={"email": "juf@example.org", "password": factories.PASSWORD})
        assert resp.status_code != 302  # no token, no sign-in
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_production_config_needs_a_secret_and_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        load_config(str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    cfg = load_config(str(tmp_path))
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["SESSION_COOKIE_HTTPONLY"] and cfg["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_password_is_hashed_with_scrypt(app, client, monkeypatch):
    """Production hashes with scrypt. The suite's app (TESTING) names a one-round PBKDF2 in
    PASSWORD_HASH_METHOD to save ~0.1 s per account and sign-in; an app out of TESTING
    ignores that key, and an account hashed with scrypt signs in."""
    from app.auth import services

    assert app.config["PASSWORD_HASH_METHOD"] != services.PASSWORD_METHOD == "scrypt"
    assert "PASSWORD_HASH_METHOD" not in load_config(app.instance_path)  # never from the environment
    monkeypatch.setitem(app.config, "TESTING", False)
    assert services.password_method() == "scrypt" and services._dummy_hash().startswith("scrypt:")
    user = _teacher()
    assert user.password_hash.startswith("scrypt:") and factories.PASSWORD not in user.password_hash
    monkeypatch.setitem(app.config, "TESTING", True)
    assert services.hash_password(factories.PASSWORD).startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    resp = client.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD})
    assert resp.status_code == 302 and "/inloggen" not in resp.headers["Location"]


def test_api_token_flow(client, app):
    _teacher()
    resp = client.post("/api/v1/auth/token", json={"email": "juf@example.org", "password": factories.PASSWORD})
    assert resp.status_code == 201
    token = resp.get_json()["token"]
    stored = db.session.scalars(select(ApiToken)).one()
    assert token not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["role"] == "teacher" and me["email"] == "juf@example.org" and me["school"]["name"]
    assert client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_api_token_errors(client, app):
    _teacher()
    bad = client.post("/api/v1/auth/token", json={"email": "juf@example.org", "password": "fout-fout-fout"})
    assert bad.status_code == 401 and bad.get_json()["code"] == "invalid_credentials"
    assert client.post("/api/v1/auth/token", json={"email": 3}).get_json()["code"] == "invalid_input"
    assert client.post("/api/v1/auth/token", data="x").status_code == 415
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"email": "juf@example.org", "password": "fout-fout-fout"})
    throttled = client.post("/api/v1/auth/token", json={"email": "juf@example.org", "password": factories.PASSWORD})
    assert throttled.status_code == 429 and throttled.get_json()["code"] == "too_many_attempts"


def test_users_cli(runner, app):
    region = factories.region(code="achterhoek")
    school = factories.school(region, location_code="32JK00")
    db.session.commit()
    r = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Meester@Example.org",
            "--role",
            "teacher",
            "--school",
            "32jk00",
            "--password",
            "lang-genoeg-wachtwoord",
        ]
    )
    assert r.exit_code == 0, r.output
    user = db.session.scalar(select(User).where(User.email == "meester@example.org"))
    assert user.school_id == school.id and user.region_id == region.id
    r = runner.invoke(
        args=["users", "create", "--email", "pl@example.org", "--role", "programme_leader", "--region", "achterhoek"],
        input="nog-een-wachtwoord\nnog-een-wachtwoord\n",
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["users", "create", "--email", "kort@example.org", "--role", "admin", "--password", "kort"])
    assert r.exit_code != 0 and "minstens" in r.output
    r = runner.invoke(args=["users", "create", "--email", "x@example.org", "--role", "teacher", "--password", "x" * 12])
    assert r.exit_code != 0
    r = runner.invoke(args=["users", "create-token", "--email", "meester@example.org"])
    assert r.exit_code == 0 and r.output.strip().startswith("tlb_")
    assert runner.invoke(args=["users", "list", "--role", "teacher"]).output.split() == ["meester@example.org"]
