"""Browser tests: the app served over HTTP, driven by headless Chromium (Debian's).

Skipped with a clear reason when chromium/chromedriver are missing, unless
REQUIRE_BROWSER=1 (CI), which makes that a failure.

The browser is Debian's ``chromium-headless-shell`` where it is installed: the same Blink and
V8 as ``chromium`` without the desktop browser around them (what Puppeteer and Playwright run
headless by default); the accessibility module costs about a fifth less CPU with it. Without
it, ``chromium --headless=new``. ``CHROMIUM=/usr/bin/chromium`` picks the full browser.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest

# Debian's /usr/bin/chromium-headless-shell is a script that runs the shell as its child (no
# exec): chromedriver's quit ends the script and leaves the browser running, so the binary itself
HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
CHROMIUM = os.environ.get(
    "CHROMIUM",
    (HEADLESS_SHELL if os.path.exists(HEADLESS_SHELL) else None)
    or shutil.which("chromium-headless-shell")
    or shutil.which("chromium")
    or "/usr/bin/chromium",
)
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port, with CSRF on as in production."""
    from werkzeug.serving import make_server

    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.config["WTF_CSRF_ENABLED"] = False


def _require_browser() -> None:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        msg = f"headless browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


def make_browser(width: int = 1280, height: int = 900):
    """A headless Chromium (Debian's) driven by selenium; the caller quits it."""
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        # no background work a test does not need (Puppeteer's defaults): timers and renderers
        # of hidden pages run at full speed, no extensions, crash reports or field trials
        "--disable-extensions",
        "--disable-background-timer-throttling",
        "--disable-backgrounding-occluded-windows",
        "--disable-renderer-backgrounding",
        "--disable-breakpad",
        "--disable-client-side-phishing-detection",
        "--disable-component-extensions-with-background-pages",
        "--disable-default-apps",
        "--disable-hang-monitor",
        "--disable-domain-reliability",
        "--metrics-recording-only",
        "--mute-audio",
        "--password-store=basic",
        "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,PaintHolding",
        f"--window-size={width},{height}",
        "--lang=nl",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.implicitly_wait(2)
    return driver


@pytest.fixture
def browser():
    driver = make_browser()
    try:
        yield driver
    finally:
        driver.quit()


def _serve(app):
    """Serve ``app`` on a free loopback port in a thread: (base URL, stop function)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server.shutdown


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory, smtp_server):
    """The demo region (realistic data: every role, a year of sessions and bookings) in an
    app of its own on SQLite, served over HTTP with CSRF on, for a whole test module.

    Yields (base URL, app). Read-only checks (the accessibility checker) share it; tests
    that change data use the ``app`` fixture and factories instead."""
    import secrets
    from datetime import date

    from app import create_app
    from app.demo.regional import load_demo
    from app.extensions import db
    from tests.conftest import TEST_PASSWORD_METHOD

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "WTF_CSRF_ENABLED": True,
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
            "SERVER_NAME": None,
            # the demo accounts' password hashed with one round of PBKDF2, as the suite's own
            # accounts (tests/conftest.py): each change of role signs in again
            "PASSWORD_HASH_METHOD": TEST_PASSWORD_METHOD,
        }
    )
    with application.app_context():
        db.create_all()
        load_demo(seed=2026, today=date.today(), echo=lambda *_: None)
        db.session.remove()
    base, stop = _serve(application)
    try:
        yield base, application
    finally:
        stop()
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
