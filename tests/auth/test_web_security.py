"""Web hardening: no open redirects, CSRF on every form, cookies, headers and CSP, templates
without inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import load_config
from app.extensions import db
from app.web import safe_next
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example",
        "http://evil.example/x",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "data:text/html,hoi",
        "evil.example",
        "",
        None,
        "/" + "a" * 2001,
    ],
)
def test_safe_next_refuses_other_places(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize(
    "target", ["/", "/aanbod/?groep=7&world=energie", "/boekingen/12#deel-2", "/bereik/?year=2025"]
)
def test_safe_next_follows_local_paths(target):
    assert safe_next(target, "/home") == target


def test_login_and_language_switch_do_not_redirect_elsewhere(client, app):
    region = factories.region()
    factories.teacher(factories.school(region), email="juf@example.org")
    db.session.commit()
    resp = client.post(
        "/inloggen?next=//evil.example", data={"email": "juf@example.org", "password": factories.PASSWORD}
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.post("/taal/nl", data={"next": "https://evil.example"}).headers["Location"] == "/"
    assert client.post("/taal/nl", data={"next": "/aanbod/"}).headers["Location"] == "/aanbod/"


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_posts_without_csrf_token_are_refused(client, app, login, csrf_on):
    region = factories.region()
    user = factories.teacher(factories.school(region), email="juf@example.org")
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    login(user)
    app.config["WTF_CSRF_ENABLED"] = True
    for path, data in [
        ("/uitloggen", {}),
        ("/mijn-account/verwijderen", {"password": factories.PASSWORD}),
        (
            "/mijn-account/wachtwoord",
            {"current_password": factories.PASSWORD, "password": "x" * 20, "confirm": "x" * 20},
        ),
        ("/mijn-account/api-sleutels", {"name": "x", "days": "30"}),
        ("/agenda/nieuw-adres", {}),
        ("/wachtwoord-vergeten", {"email": "juf@example.org"}),
    ]:
        resp = client.post(path, data=data)
        assert resp.status_code == 400, (path, resp.status_code)
    assert client.get("/mijn-account/").status_code == 200  # still there, still signed in


def test_every_form_in_the_templates_carries_a_csrf_token():
    missing = []
    for path in sorted((ROOT / "app").rglob("*.html")):
        text = path.read_text()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, flags=re.S | re.I):
            if re.search(r'method="post"', form, re.I) and "csrf_token" not in form:
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.delenv("HSTS_SECONDS", raising=False)
    cfg = load_config(str(tmp_path))
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["SESSION_COOKIE_HTTPONLY"] is True
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert cfg["REMEMBER_COOKIE_SECURE"] is True and cfg["REMEMBER_COOKIE_HTTPONLY"] is True
    assert cfg["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert cfg["HSTS_SECONDS"] >= 60 * 60 * 24 * 180
    monkeypatch.setenv("APP_ENV", "development")
    dev = load_config(str(tmp_path))
    assert dev["SESSION_COOKIE_SECURE"] is False and dev["HSTS_SECONDS"] == 0


def test_session_cookie_flags_on_the_wire(client, app, login):
    region = factories.region()
    user = factories.teacher(factories.school(region))
    db.session.commit()
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        resp = client.post("/inloggen", data={"email": user.email, "password": factories.PASSWORD})
        cookie = resp.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def test_security_headers_and_csp(client, app):
    resp = client.get("/")
    h = resp.headers
    assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "same-origin" and "camera=()" in h["Permissions-Policy"]
    csp = h["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "Strict-Transport-Security" not in h  # testing runs over http
    api = client.get("/api/v1/me")
    assert api.headers["Content-Security-Policy"] == csp and api.headers["Cache-Control"] == "no-store"


def test_hsts_in_production(client, app):
    app.config["HSTS_SECONDS"] = 31536000
    try:
        assert client.get("/").headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    finally:
        app.config["HSTS_SECONDS"] = 0


def test_personal_pages_are_not_cached(client, app, login):
    region = factories.region()
    user = factories.teacher(factories.school(region))
    db.session.commit()
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    login(user)
    assert client.get("/mijn-account/").headers["Cache-Control"] == "no-store"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "on*= event handler"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_has_inline_script_handlers_or_styles():
    """The CSP forbids inline script and style; a template that used them would break."""
    found = []
    for path in sorted((ROOT / "app").rglob("*.html")) + sorted((ROOT / "app").rglob("*.svg")):
        text = path.read_text()
        for pattern, what in INLINE:
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert found == []


def test_python_built_markup_has_no_inline_styles_either():
    """Charts are drawn on the server as SVG; they style through classes, not style=."""
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"""\sstyle=\\?["']|<script|\son(click|load|error|mouseover)=""", line, re.I):
                found.append(f"{path.relative_to(ROOT)}:{n}")
    assert found == []


def test_client_address_behind_a_trusted_proxy(tmp_path):
    """Behind a load balancer the per-address sign-in limits must see the client, not the proxy."""
    from flask import request

    from app import create_app

    seen = []
    for proxies in (0, 1):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "k" * 32,
                "PROXY_COUNT": proxies,
                "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "p.sqlite3"),
            }
        )
        app.add_url_rule("/_addr", "addr", lambda: request.remote_addr)
        seen.append(
            app.test_client()
            .get("/_addr", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
            .text
        )
    assert seen == ["10.0.0.2", "203.0.113.9"]
