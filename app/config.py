"""Configuration from the environment.

APP_ENV selects the profile: ``production`` (the default), ``development`` or
``testing``. Outside development and testing, SECRET_KEY must be set.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    pass


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str) -> dict:
    env = os.environ.get("APP_ENV", "production").strip().lower()
    dev = env in {"development", "testing"}
    cfg: dict = {
        "APP_ENV": env,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or "sqlite:///" + str(Path(instance_path) / "techlab.sqlite3"),
        # hide_parameters: SQL errors in the log never show values (tokens, e-mail addresses).
        # No pre-ping (a round trip on every checkout, i.e. every request): connections are
        # replaced after DB_POOL_RECYCLE seconds instead, before a firewall or the server drops
        # them idle; after a database restart SQLAlchemy sees the disconnect on first use and
        # discards the whole pool, so one request per worker may fail. DB_POOL_PRE_PING=1
        # brings the ping back where idle connections are cut sooner than that.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": _bool("DB_POOL_PRE_PING", False),
            "pool_recycle": int(os.environ.get("DB_POOL_RECYCLE", "1800")),
            "hide_parameters": not dev,
        },
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not dev),
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not dev),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 14,
        # Strict-Transport-Security max-age; 0 leaves the header out (development over http)
        "HSTS_SECONDS": int(os.environ.get("HSTS_SECONDS", "0" if dev else str(60 * 60 * 24 * 365))),
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 8,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        "LANGUAGES": ["nl", "en"],
        # a cancelled booking may be restored (if its place is still free) within this many minutes
        "UNDO_CANCEL_MINUTES": int(os.environ.get("UNDO_CANCEL_MINUTES", "15")),
        # mail: MAIL_BACKEND=smtp sends over SMTP; "console" prints (development)
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "console" if dev else "smtp"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Techlab boekingen <noreply@techlab.localhost>"),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000"),
        "PAGE_SIZE": 25,
        "API_PAGE_SIZE_MAX": 200,
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_WINDOW_SECONDS": int(os.environ.get("LOGIN_WINDOW_SECONDS", "900")),
        "LOGIN_MAX_FAILURES_PER_IP": int(os.environ.get("LOGIN_MAX_FAILURES_PER_IP", "50")),
        # an account is locked this long after LOGIN_MAX_FAILURES failures
        "LOGIN_LOCKOUT_SECONDS": int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900")),
        # password reset: link valid this long; at most this many reset mails per account/address per hour
        "PASSWORD_RESET_SECONDS": int(os.environ.get("PASSWORD_RESET_SECONDS", "3600")),
        "PASSWORD_RESET_MAX_PER_HOUR": int(os.environ.get("PASSWORD_RESET_MAX_PER_HOUR", "3")),
        "PASSWORD_RESET_MAX_PER_IP_HOUR": int(os.environ.get("PASSWORD_RESET_MAX_PER_IP_HOUR", "20")),
        # sign-in by e-mail link (teachers and school coordinators): valid this long, single use;
        # at most this many link mails per account/address per hour
        "LOGIN_LINK_SECONDS": int(os.environ.get("LOGIN_LINK_SECONDS", "900")),
        "LOGIN_LINK_MAX_PER_HOUR": int(os.environ.get("LOGIN_LINK_MAX_PER_HOUR", "3")),
        "LOGIN_LINK_MAX_PER_IP_HOUR": int(os.environ.get("LOGIN_LINK_MAX_PER_IP_HOUR", "20")),
        # an invitation to a new account (a link to choose a password) is valid this long
        "INVITATION_SECONDS": int(os.environ.get("INVITATION_SECONDS", str(7 * 24 * 3600))),
        # sign-in with a school account: the OpenID Connect providers (a JSON list, or a file
        # holding it; see the README), the clock skew accepted on ID tokens (at most 120 s), and
        # how long a call to a provider may take
        "OIDC_PROVIDERS": os.environ.get("OIDC_PROVIDERS", ""),
        "OIDC_PROVIDERS_FILE": os.environ.get("OIDC_PROVIDERS_FILE", ""),
        "OIDC_LEEWAY_SECONDS": int(os.environ.get("OIDC_LEEWAY_SECONDS", "60")),
        "OIDC_HTTP_TIMEOUT": float(os.environ.get("OIDC_HTTP_TIMEOUT", "10")),
        # the largest request body: the DUO upload only (app.web.body_limit); the same as nginx's
        # client_max_body_size in deploy/nginx-techlab.conf (32m). Larger ones answer 413.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "32")) * 1024 * 1024,
        # every other request body: forms and JSON; sign-in and other forms open to anyone; CSV uploads
        "MAX_BODY_BYTES": int(os.environ.get("MAX_BODY_KB", "256")) * 1024,
        "MAX_AUTH_BODY_BYTES": int(os.environ.get("MAX_AUTH_BODY_KB", "16")) * 1024,
        "MAX_CSV_UPLOAD_BYTES": int(os.environ.get("MAX_CSV_UPLOAD_MB", "4")) * 1024 * 1024,
        # multipart bodies: at most this many parts, and this many bytes in a field that is not a file
        "MAX_FORM_PARTS": 1000,
        # (werkzeug checks its parse buffer against this too, which takes 64 KB reads: keep it well above)
        "MAX_FORM_MEMORY_SIZE": 256 * 1024,
        # API tokens made on the account page expire after this many days
        "API_TOKEN_DAYS": int(os.environ.get("API_TOKEN_DAYS", "365")),
        # privacy: personal data of accounts unused this long is removed by the retention job
        "RETENTION_DAYS": int(os.environ.get("RETENTION_DAYS", "730")),
        "LOCK_TIMEOUT_MS": int(os.environ.get("LOCK_TIMEOUT_MS", "5000")),
        # switch the booking locks off only to show the race in the control test
        "BOOKING_LOCKING": True,
        # switch the account row lock of a sign-in off only to show the race in the control test
        "LOGIN_LOCKING": True,
        # switch the region check of linked ids (permissions.linkable) off only in the control test
        "LINK_CHECKS": True,
        "GEO_PC4_FILE": os.environ.get("GEO_PC4_FILE", ""),
        # operations: logs as JSON lines (production) or text (development)
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text" if dev else "json").strip().lower(),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").strip().upper(),
        "LOG_REQUESTS": _bool("LOG_REQUESTS", True),
        # the stdout handler (under pytest, its own log capture takes the records)
        "LOG_HANDLER": env != "testing",
        # the number of proxies (load balancer, reverse proxy) in front whose X-Forwarded-* are trusted
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "APP_VERSION": os.environ.get("APP_VERSION", ""),
        # the scheduler's heartbeat; a scheduler is alive when one came within three of these
        "SCHEDULER_HEARTBEAT_SECONDS": int(os.environ.get("SCHEDULER_HEARTBEAT_SECONDS", "60")),
        # tests and drills only: fire every job every N seconds instead of on its own schedule
        "SCHEDULER_EVERY_SECONDS": int(os.environ.get("SCHEDULER_EVERY_SECONDS", "0")),
        # bus planning (app/transport): limits of a route, the solver's time, the freeze
        "TRANSPORT_MAX_RIDE_MINUTES": int(os.environ.get("TRANSPORT_MAX_RIDE_MINUTES", "45")),
        "TRANSPORT_ARRIVAL_MARGIN_MINUTES": int(os.environ.get("TRANSPORT_ARRIVAL_MARGIN_MINUTES", "15")),
        "TRANSPORT_DWELL_MINUTES": int(os.environ.get("TRANSPORT_DWELL_MINUTES", "3")),
        "TRANSPORT_RETURN_AFTER_MINUTES": int(os.environ.get("TRANSPORT_RETURN_AFTER_MINUTES", "10")),
        "TRANSPORT_SPEED_KMH": float(os.environ.get("TRANSPORT_SPEED_KMH", "40")),
        "TRANSPORT_SOLVER_SECONDS": float(os.environ.get("TRANSPORT_SOLVER_SECONDS", "1.0")),
        # announced pickups move at most this much unless the coordinator accepts; a change costs this (€)
        "TRANSPORT_PICKUP_TOLERANCE_MINUTES": int(os.environ.get("TRANSPORT_PICKUP_TOLERANCE_MINUTES", "5")),
        "TRANSPORT_PICKUP_CHANGE_COST": float(os.environ.get("TRANSPORT_PICKUP_CHANGE_COST", "25")),
        # a bus's next trip of the day starts at least this long after it is back
        "TRANSPORT_TURNAROUND_MINUTES": int(os.environ.get("TRANSPORT_TURNAROUND_MINUTES", "15")),
        # classes of sessions at the same venue, start and end may share a bus where that is cheaper
        "TRANSPORT_SHARE_BUSES": os.environ.get("TRANSPORT_SHARE_BUSES", "1") not in ("0", "false", "no"),
        "TRANSPORT_FREEZE_DAYS": int(os.environ.get("TRANSPORT_FREEZE_DAYS", "7")),
        "TRANSPORT_LOCK_TIMEOUT_MS": int(os.environ.get("TRANSPORT_LOCK_TIMEOUT_MS", "30000")),
        # the outbox worker (app.outbox.worker): a failed entry is retried after
        # OUTBOX_RETRY_SECONDS * 2**(attempts-1) (at most OUTBOX_RETRY_MAX_SECONDS), and is a
        # dead letter after OUTBOX_MAX_ATTEMPTS failures; the worker looks every OUTBOX_POLL_SECONDS
        "OUTBOX_MAX_ATTEMPTS": int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8")),
        "OUTBOX_RETRY_SECONDS": float(os.environ.get("OUTBOX_RETRY_SECONDS", "60")),
        "OUTBOX_RETRY_MAX_SECONDS": float(os.environ.get("OUTBOX_RETRY_MAX_SECONDS", "3600")),
        "OUTBOX_POLL_SECONDS": float(os.environ.get("OUTBOX_POLL_SECONDS", "1")),
        "OUTBOX_BATCH": int(os.environ.get("OUTBOX_BATCH", "50")),
        # a booking notice waits for the re-plan of its session (it carries the bus) at most this long;
        # after that it goes with "bus: wordt gepland" and the plan's own mail tells the pickup
        "OUTBOX_MAIL_WAITS_FOR_PLAN_SECONDS": float(os.environ.get("OUTBOX_MAIL_WAITS_FOR_PLAN_SECONDS", "300")),
        # /health is degraded when an entry waits longer than this (or there are dead letters)
        "OUTBOX_ALERT_AGE_SECONDS": float(os.environ.get("OUTBOX_ALERT_AGE_SECONDS", "900")),
    }
    if cfg["LOG_FORMAT"] not in {"json", "text"}:
        raise ConfigError("LOG_FORMAT must be json or text.")
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        if not dev:
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or set APP_ENV=development on a laptop."
            )
        secret = _dev_secret(instance_path)
    cfg["SECRET_KEY"] = secret
    return cfg


def _dev_secret(instance_path: str) -> str:
    """A random key made once per checkout and kept in instance/ (never committed)."""
    path = Path(instance_path) / "dev-secret-key"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()
    except OSError:
        return secrets.token_urlsafe(48)
