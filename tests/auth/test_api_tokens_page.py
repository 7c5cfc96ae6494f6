"""The API keys page: list, create (shown once), revoke; revoked and expired keys get 401."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import ApiToken
from app.db import utcnow
from app.extensions import db
from tests import factories


def _users():
    region = factories.region()
    school = factories.school(region)
    teacher = factories.teacher(school)
    other = factories.teacher(school)
    db.session.commit()
    return teacher, other


def test_create_list_and_revoke_a_key(client, app, login):
    teacher, _other = _users()
    login(teacher)
    assert "U heeft nog geen sleutels." in client.get("/mijn-account/api-sleutels").text
    made = client.post("/mijn-account/api-sleutels", data={"name": "Rooster-koppeling", "days": "30"})
    assert made.status_code == 201
    secret = re.search(r'value="(tlb_[^"]+)"', made.text).group(1)
    token = db.session.scalars(select(ApiToken)).one()
    assert token.name == "Rooster-koppeling" and secret not in (token.token_hash, token.prefix)
    assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)
    # shown once: the list shows the prefix only
    listing = client.get("/mijn-account/api-sleutels").text
    assert secret not in listing and token.prefix in listing and "Rooster-koppeling" in listing
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    assert client.post(f"/mijn-account/api-sleutels/{token.id}/intrekken").status_code == 302
    resp = client.get("/api/v1/me", headers=headers)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == "unauthorized" and "ingetrokken" in client.get("/mijn-account/api-sleutels").text


def test_expired_key_gets_401(client, app):
    teacher, _other = _users()
    secret = factories.api_token(teacher)
    token = db.session.scalars(select(ApiToken)).one()
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_someone_elses_key_cannot_be_revoked(client, app, login):
    teacher, other = _users()
    factories.api_token(other)
    db.session.commit()
    token = db.session.scalars(select(ApiToken)).one()
    login(teacher)
    assert client.post(f"/mijn-account/api-sleutels/{token.id}/intrekken").status_code == 403
    assert client.post("/mijn-account/api-sleutels/999999/intrekken").status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert "Rooster" not in client.get("/mijn-account/api-sleutels").text


def test_bad_form_re_shows(client, app, login):
    teacher, _other = _users()
    login(teacher)
    resp = client.post("/mijn-account/api-sleutels", data={"name": "", "days": "30"})
    assert resp.status_code == 422 and "Geef de sleutel een naam." in resp.text
    assert client.post("/mijn-account/api-sleutels", data={"name": "x", "days": "9999"}).status_code == 422
    assert db.session.scalar(select(ApiToken.id)) is None


def test_tokens_from_the_api_expire_too(client, app):
    teacher, _other = _users()
    teacher.email = "juf@example.org"
    db.session.commit()
    resp = client.post("/api/v1/auth/token", json={"email": "juf@example.org", "password": factories.PASSWORD})
    assert resp.status_code == 201
    token = db.session.scalars(select(ApiToken)).one()
    assert token.expires_at is not None and resp.get_json()["expires_at"] == token.expires_at.isoformat()
    assert token.expires_at - utcnow() > timedelta(days=app.config["API_TOKEN_DAYS"] - 1)
