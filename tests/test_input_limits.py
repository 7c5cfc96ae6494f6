"""Bounded parsing (issue 14 item 8): a body is read only up to its endpoint's limit —
small for sign-in, larger for CSV uploads, MAX_CONTENT_LENGTH (nginx's limit) only for the
DUO upload."""

from __future__ import annotations

import time
from pathlib import Path

from app.extensions import db
from tests import factories


def test_a_million_fields_to_sign_in_are_refused_before_parsing(client):
    body = b"&".join(b"a%d=1" % i for i in range(1_000_000))  # ~8 MB
    started = time.perf_counter()
    resp = client.post("/inloggen", data=body, content_type="application/x-www-form-urlencoded")
    elapsed = time.perf_counter() - started
    assert resp.status_code == 413
    assert elapsed < 2.0, elapsed


def test_limits_per_endpoint(app, client, login):
    cfg = app.config
    assert cfg["MAX_AUTH_BODY_BYTES"] < cfg["MAX_BODY_BYTES"] < cfg["MAX_CSV_UPLOAD_BYTES"] < cfg["MAX_CONTENT_LENGTH"]
    nginx = (Path(__file__).resolve().parents[1] / "deploy/nginx-techlab.conf").read_text()
    assert f"client_max_body_size {cfg['MAX_CONTENT_LENGTH'] // 2**20}m;" in nginx  # the DUO location
    assert f"client_max_body_size {cfg['MAX_CSV_UPLOAD_BYTES'] // 2**20}m;" in nginx  # everything else

    user = factories.user("admin")
    db.session.commit()
    resp = client.post("/inloggen", data={"email": user.email, "password": "x" * (cfg["MAX_AUTH_BODY_BYTES"] + 1)})
    assert resp.status_code == 413
    login(user)  # an ordinary sign-in still fits
    big = "x" * (cfg["MAX_BODY_BYTES"] + 1)
    assert client.post("/regiobeheer/regios/nieuw", data={"code": "x", "name": big}).status_code == 413
    resp = client.post(
        "/api/v1/bookings",
        data=b"[" + b"1," * cfg["MAX_BODY_BYTES"] + b"1]",
        content_type="application/json",
        headers=factories.auth_header(user),
    )
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"


def test_multipart_parts_are_limited(app, client, login):
    user = factories.user("admin")
    db.session.commit()
    login(user)
    data = {f"f{i}": "1" for i in range(app.config["MAX_FORM_PARTS"] + 10)}
    resp = client.post("/regiobeheer/regios/nieuw", data=data, content_type="multipart/form-data")
    assert resp.status_code == 413
