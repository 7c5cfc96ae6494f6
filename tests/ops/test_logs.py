"""Structured logs: JSON lines with the request's fields, a request id that travels."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone

from flask import template_rendered

from app.extensions import db
from app.ops.logs import JsonFormatter, TextFormatter, scrub, valid_request_id
from tests import factories

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def _request_records(caplog, path: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "app.request" and getattr(r, "path", None) == path]


def test_request_id_is_taken_from_the_header_and_echoed(client):
    resp = client.get("/", headers={"X-Request-ID": "lb-4f2a.9:1"})
    assert resp.headers["X-Request-ID"] == "lb-4f2a.9:1"


def test_unsafe_or_missing_request_id_is_replaced(client):
    for bad in ("a b", "x" * 65, "<script>", "id;Set-Cookie=x", "../../etc", ""):
        resp = client.get("/", headers={"X-Request-ID": bad} if bad else {})
        assert HEX_ID.match(resp.headers["X-Request-ID"]), bad
    first, second = client.get("/"), client.get("/")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert valid_request_id("ok-1") == "ok-1" and valid_request_id("é") is None


def test_every_log_line_of_a_request_carries_its_id(client, app, caplog):
    caplog.set_level(logging.INFO)
    test_log = logging.getLogger("tests.ops")

    def log_render(sender, template, context, **extra):
        test_log.info("rendered %s", template.name)

    with template_rendered.connected_to(log_render, app):
        resp = client.get("/privacy", headers={"X-Request-ID": "req-privacy-1"})
    assert resp.status_code == 200
    inner = [r for r in caplog.records if r.name == "tests.ops"]
    assert inner and all(r.request_id == "req-privacy-1" for r in inner)
    [line] = _request_records(caplog, "/privacy")
    assert line.request_id == "req-privacy-1"


def test_request_line_as_json(client, app, caplog):
    caplog.set_level(logging.INFO)
    school = factories.school(factories.region())
    teacher = factories.teacher(school, email="juf.jansen@school.example")
    teacher_id = teacher.id
    db.session.commit()
    client.post("/inloggen", data={"email": "juf.jansen@school.example", "password": factories.PASSWORD})
    resp = client.get("/boekingen/", headers={"X-Request-ID": "req-json-1"})
    [record] = _request_records(caplog, "/boekingen/")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "req-json-1" == resp.headers["X-Request-ID"]
    assert entry["level"] == "INFO" and entry["logger"] == "app.request"
    assert entry["method"] == "GET" and entry["path"] == "/boekingen/" and entry["status"] == resp.status_code
    assert entry["user_id"] == teacher_id and entry["duration_ms"] >= 0
    assert entry["message"] == f"GET /boekingen/ {resp.status_code}"
    when = datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
    assert entry["time"].endswith("Z") and abs(when - datetime.now(timezone.utc)) < timedelta(minutes=1)
    # nothing of the login leaks: no password, no e-mail address, in any line
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert factories.PASSWORD not in everything and "juf.jansen" not in everything


def test_the_api_user_is_logged_and_the_token_is_not(client, caplog):
    caplog.set_level(logging.INFO)
    teacher = factories.teacher(factories.school(factories.region()))
    header = factories.auth_header(teacher)
    db.session.commit()
    client.get("/api/v1/bookings", headers=header)
    [record] = _request_records(caplog, "/api/v1/bookings")
    assert record.user_id == teacher.id
    secret = header["Authorization"].split()[1]
    assert secret not in "\n".join(JsonFormatter().format(r) for r in caplog.records)


def test_secrets_in_the_path_are_redacted(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/agenda/Zx9-secret-calendar-token.ics")
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert "Zx9-secret-calendar-token" not in "\n".join(lines)
    assert _request_records(caplog, "/agenda/<redacted>.ics")


def test_health_probes_are_logged_at_debug(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/health")
    assert not _request_records(caplog, "/health")


def test_messages_are_scrubbed_and_text_format_shows_the_id():
    record = logging.LogRecord(
        "app.mail",
        logging.ERROR,
        __file__,
        1,
        "refused %s with Authorization: Bearer abc.def",
        ("p.de.vries@example.org",),
        None,
    )
    record.request_id = "req-7"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "refused <e-mail> with Authorization: Bearer <redacted>"
    assert entry["request_id"] == "req-7" and entry["level"] == "ERROR" and entry["logger"] == "app.mail"
    text = TextFormatter().format(record)
    assert "[req-7]" in text and "example.org" not in text
    assert scrub("mail a@b.nl") == "mail <e-mail>"


def test_mails_carry_the_request_id(client, mailbox, drain_outbox):
    region = factories.region()
    offer = factories.offer(region, factories.venue(region), capacity_classes=2, capacity_pupils=60, adults_per_class=0)
    session = factories.session(offer, datetime.now(timezone.utc) + timedelta(days=30))
    teacher = factories.teacher(factories.school(region))
    header = factories.auth_header(teacher)
    session_id = session.id
    db.session.commit()
    resp = client.post(
        "/api/v1/bookings",
        json={"session_id": session_id, "groep": "7", "pupils": 20, "adults": 0},
        headers={**header, "X-Request-ID": "req-mail-1"},
    )
    assert resp.status_code == 201, resp.get_json()
    drain_outbox()
    assert mailbox and all(m["X-Request-ID"] == "req-mail-1" for m in mailbox)
