"""A real OpenID provider for the tests: ``tests/oidc_provider/server.js`` (the certified
``oidc-provider`` npm package) started in a node process, and helpers to sign in through it.

``npm ci`` installs the package into tests/oidc_provider on first use. Without node/npm the
tests that need the provider are skipped with the reason shown; with REQUIRE_BROWSER=1 or
CI=true that is a failure (CI has node).
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "techlab-test"
CLIENT_SECRET = "techlab-test-secret-that-is-long-enough"
NAME = "test"
LABEL = "Testschool-ID"


@dataclass
class TestProvider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def config(self, **extra) -> dict:
        """The provider as the deployment configures it (Entree's claim names: the preset)."""
        return {
            "name": NAME,
            "preset": "entree",
            "label": LABEL,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            **extra,
        }


def _required() -> bool:
    return os.environ.get("REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"


def _skip(msg: str):
    if _required():
        pytest.fail(msg + " (REQUIRE_BROWSER=1 or CI)", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def oidc_provider():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        _skip("the OpenID provider tests need node and npm (Node.js 20.19 or later)")
    import fcntl

    # one install, also when several pytest workers (xdist) start at once
    with open(PROVIDER_DIR / ".npm-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=PROVIDER_DIR,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                _skip(f"npm ci in {PROVIDER_DIR} failed: {done.stderr[-500:]}")
    proc = subprocess.Popen(
        [node, "server.js"],
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={
            **os.environ,
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
            "REDIRECT_PATHS": f"/inloggen/via/{NAME}/terug",
        },
    )
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    issuer = None
    deadline = time.monotonic() + 30
    while issuer is None and time.monotonic() < deadline and proc.poll() is None:
        if sel.select(timeout=1):
            line = proc.stdout.readline()
            if line.startswith("ISSUER "):
                issuer = line.split()[1]
    if issuer is None:
        proc.kill()
        pytest.fail("the test OpenID provider did not start", pytrace=False)
    try:
        yield TestProvider(issuer)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def configure(app, providers: list | None, base_url: str | None = None) -> None:
    """Give the (shared) test app these providers; ``configure(app, None)`` takes them away."""
    from app.auth import oidc

    app.config["OIDC_PROVIDERS"] = providers or []
    if base_url:
        app.config["BASE_URL"] = base_url
    oidc.init_app(app)


@pytest.fixture
def with_provider(app, oidc_provider):
    """The app with the test provider configured (Entree preset); removed afterwards."""
    base = app.config["BASE_URL"]
    configure(app, [oidc_provider.config()], "http://127.0.0.1:5000")
    try:
        yield oidc_provider
    finally:
        configure(app, None, base)


def provider_sign_in(client, account: str, start: str = f"/inloggen/via/{NAME}"):
    """Sign in through the provider as ``account``, with the Flask test client for our side and
    a plain HTTP client for the provider's side, following every redirect as a browser would.
    Returns our last response (the page after the callback, not followed further)."""
    import requests

    resp = client.get(start)
    assert resp.status_code == 302, resp.data[:300]
    browser = requests.Session()
    url = resp.headers["Location"]
    for _ in range(20):
        parts = urlsplit(url)
        if parts.port == 5000 or not parts.netloc:  # back at our app
            return client.get(parts.path + ("?" + parts.query if parts.query else ""))
        r = browser.get(url, allow_redirects=False, timeout=10)
        if r.status_code == 200 and 'name="login"' in r.text:
            action = r.text.split('action="', 1)[1].split('"', 1)[0]
            r = browser.post(urljoin(url, action), data={"login": account}, allow_redirects=False, timeout=10)
        assert r.status_code in (302, 303), (r.status_code, r.text[:300])
        url = urljoin(url, r.headers["Location"])
    raise AssertionError("too many redirects")
