"""No reset, invitation, calendar-feed or ?token= secret in any log line: the app's request
log and gunicorn's access log redact with one rule (app.ops.logs.redact_path)."""

from __future__ import annotations

import http.cookiejar
import logging
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from app.ops.logs import JsonFormatter, TextFormatter, redact_path
from tests.ops.conftest import create_schema, free_port, gunicorn, process_env, stop, wait_for_http

PASSWORD = "een-heel-lang-wachtwoord-1"


def test_one_rule_for_every_secret_path():
    assert redact_path("/wachtwoord-herstellen/AbC-123_x") == "/wachtwoord-herstellen/<redacted>"
    assert redact_path("/uitnodiging/AbC-123_x") == "/uitnodiging/<redacted>"
    assert redact_path("/agenda/Zx9-cal.ics") == "/agenda/<redacted>.ics"
    assert redact_path("/agenda/boeking/12.ics") == "/agenda/boeking/12.ics"
    assert redact_path("/x?token=abc&b=1") == "/x?token=<redacted>&b=1"
    assert redact_path("/x?a=1&api_key=abc") == "/x?a=1&api_key=<redacted>"
    assert (
        redact_path("Error handling request /uitnodiging/s3cr3t?x=1")
        == "Error handling request /uitnodiging/<redacted>?x=1"
    )


def test_every_url_rule_with_a_secret_part_is_covered(app):
    """The rule cannot fall behind the URL map: each rule whose variable is named like a secret
    is redacted when its value is filled in."""
    from app.ops.logs import _SECRET_WORDS

    checked = 0
    for rule in app.url_map.iter_rules():
        secret_args = [a for a in rule.arguments if any(w in a.lower() for w in _SECRET_WORDS)]
        if not secret_args or "GET" not in rule.methods:
            continue
        values = {a: ("7" if a not in secret_args else "S3cretValue") for a in rule.arguments}
        try:
            path = rule.build(values, append_unknown=False)[1]
        except Exception:
            continue
        assert "S3cretValue" not in redact_path(path), rule.rule
        checked += 1
    assert checked >= 3


def test_formatters_redact_the_path_field_of_any_logger():
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("GET", "/uitnodiging/s3cr3t-inv", 200), None
    )
    record.path = "/uitnodiging/s3cr3t-inv"
    record.request_id = "r1"
    assert "s3cr3t-inv" not in JsonFormatter().format(record)
    assert "s3cr3t-inv" not in TextFormatter().format(record)


def _tokens_in_db(url: str) -> dict:
    """A teacher with a reset link, a new account with an invitation; their secrets."""
    from app import create_app
    from app.auth import services
    from app.auth.models import Role
    from app.db import utcnow
    from app.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x" * 32,
            "SQLALCHEMY_DATABASE_URI": url,
            "LOG_HANDLER": False,
            "SERVER_NAME": "localhost",
        }
    )
    with app.app_context():
        from tests import factories

        region = factories.region()
        reset_user = factories.teacher(factories.school(region))
        invited = services.create_user(email="nieuw@example.org", role=Role.COORDINATOR, password=None, region=region)
        now = utcnow()
        secrets = {
            "reset": services._issue_reset_token(reset_user, now, 3600),
            "invite": services._issue_reset_token(invited, now, 86400),
            "calendar": reset_user.calendar_token,
        }
        db.session.commit()
        db.engine.dispose()
    return secrets


def _form_post(opener, url: str, data: dict) -> str:
    """Post the form of the page (with its CSRF token); the address it ends on (redirects followed)."""
    page = opener.open(url, timeout=10).read().decode()
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    body = urllib.parse.urlencode({**data, "csrf_token": csrf.group(1) if csrf else ""}).encode()
    try:
        with opener.open(urllib.request.Request(url, data=body), timeout=10) as resp:
            return resp.geturl()
    except urllib.error.HTTPError as exc:
        return f"{exc.code}"


@pytest.mark.slow
def test_reset_and_invitation_through_gunicorn_leave_no_secret_in_any_log(fresh_database, tmp_path):
    url = fresh_database("sqlite")
    create_schema(url)
    secrets = _tokens_in_db(url)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    proc = gunicorn(port, process_env(url, LOG_LEVEL="debug"), log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/health", proc, log)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        assert (
            _form_post(
                opener, f"{base}/wachtwoord-herstellen/{secrets['reset']}", {"password": PASSWORD, "confirm": PASSWORD}
            )
            == f"{base}/inloggen"
        )
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        assert (
            _form_post(opener, f"{base}/uitnodiging/{secrets['invite']}", {"password": PASSWORD, "confirm": PASSWORD})
            == f"{base}/"
        )
        for path in (
            f"/agenda/{secrets['calendar']}.ics",
            f"/inloggen?token={secrets['reset']}",
            f"/wachtwoord-herstellen/{secrets['reset']}x",
        ):
            try:
                urllib.request.urlopen(base + path, timeout=10).read()
            except urllib.error.HTTPError:
                pass
    finally:
        stop(proc)
    text = log.read_text(errors="replace")
    access = [ln for ln in text.splitlines() if '"gunicorn.access"' in ln]
    app_lines = [ln for ln in text.splitlines() if '"app.request"' in ln]
    assert len(access) >= 7 and len(app_lines) >= 7, text[-3000:]
    assert any("/wachtwoord-herstellen/<redacted>" in ln for ln in access)
    assert any("/uitnodiging/<redacted>" in ln for ln in access)
    assert any("/uitnodiging/<redacted>" in ln for ln in app_lines)
    for name, secret in secrets.items():
        assert secret not in text, name
