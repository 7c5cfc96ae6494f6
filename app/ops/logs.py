"""Structured logs: one JSON object per line on stdout, each carrying a request id.

Every request gets an id: the incoming ``X-Request-ID`` header when it is short and made
of safe characters (a load balancer or proxy may set one), else a fresh one. The id is
echoed in the response header, stamped on every log record made while the request runs
(a context variable, read by a log record factory, so it reaches every logger and
pytest's caplog alike), and put on the mails the request queues. Scheduled job runs get
an id of their own (``job-…``) in the same way.

What is logged about a request: method, path (values of URL parts named like a token
replaced), status, duration and the user's id. Never the query string, a body, a
password, a token or an e-mail address; messages are scrubbed of e-mail addresses and
bearer tokens as a last guard.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"']+")
_SECRET_WORDS = ("token", "secret", "password", "key")
# The one rule for secrets in paths, used by the app's request log, gunicorn's access and
# error logs and every message (both loggers use the formatters below): the link secrets of
# password resets, invitations and sign-in links, the calendar feed's secret, and a query parameter named
# like a secret (?token=…). tests/ops/test_logs.py checks that every URL rule of the app with
# a secret-named part is covered.
_SECRET_PATH = re.compile(r"(/wachtwoord-herstellen/|/uitnodiging/|/inloglink/)[^/\s?#\"']+")
_FEED_PATH = re.compile(r"(/agenda/)(?!boeking/)[^/\s?#\"']+(\.ics)")
_SECRET_QUERY = re.compile(r"(?i)([?&][a-z0-9_.-]*(?:token|secret|password|key)[a-z0-9_.-]*=)[^&#\s\"']*")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# fields a record may carry (through ``extra=``) that the JSON line shows
EXTRA_FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "remote_addr",
    "bytes",
    "user_agent",
    "job",
    "run_key",
    "event",
)


def new_request_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex


def valid_request_id(value: str | None) -> str | None:
    """The incoming id if it is short and safe to put in a log line and a header."""
    if value and _SAFE_ID.match(value):
        return value
    return None


def current_request_id() -> str | None:
    return request_id_var.get()


def bind_request_id(value: str | None = None, prefix: str = "") -> contextvars.Token:
    """Set the id for this context (a request or a job run); reset with the token."""
    return request_id_var.set(value or new_request_id(prefix))


def redact_path(text: str) -> str:
    """A path (or any text holding paths) with the secrets in it replaced by ``<redacted>``."""
    text = _SECRET_PATH.sub(r"\1<redacted>", text)
    text = _FEED_PATH.sub(r"\1<redacted>\2", text)
    return _SECRET_QUERY.sub(r"\1<redacted>", text)


def scrub(text: str) -> str:
    """Remove e-mail addresses, bearer tokens and secrets in paths from a message."""
    text = _EMAIL.sub("<e-mail>", text)
    text = _BEARER.sub(r"\1<redacted>", text)
    return redact_path(text)


def _user_id() -> int | None:
    """The signed-in (or token) user's id, without touching the database."""
    if not has_request_context():
        return None
    from sqlalchemy import inspect

    user = request.environ.get("techlab.api_user") or g.get("_login_user")
    if user is None:
        return None
    try:
        identity = inspect(user).identity
    except Exception:
        return None
    # the id the identity map already has: asking ``is_authenticated`` (Flask-Login reads
    # ``active``) would reload the user from the database after the commit expired it;
    # a user object we hold was signed in (token or session) when the request loaded it
    return identity[0] if identity else None


def safe_path() -> str:
    """The request path, with the values of URL parts that are secrets replaced."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if any(word in name.lower() for word in _SECRET_WORDS) and isinstance(value, str) and value:
            path = path.replace(value, "<redacted>")
    return redact_path(path)


_factory_installed = False


def install_record_factory() -> None:
    """Every log record made anywhere carries ``request_id`` (and the user's id in a request)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO UTC), level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = redact_path(value) if name == "path" and isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for development, with the request id and a request's fields."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = None
        line = super().format(record)
        extras = " ".join(f"{n}={getattr(record, n)}" for n in EXTRA_FIELDS if getattr(record, n, None) is not None)
        return scrub(f"{line} {extras}" if extras else line)


def make_formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def configure_logging(app: Flask) -> None:
    """Install the stdout handler (once) and the request-id hooks of this app."""
    install_record_factory()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_techlab", False):
            root.removeHandler(handler)
    if app.config.get("LOG_HANDLER", True):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(make_formatter(app.config["LOG_FORMAT"]))
        handler._techlab = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    app.logger.handlers.clear()  # Flask's default handler would print each line twice
    app.logger.propagate = True

    request_log = logging.getLogger("app.request")

    @app.before_request
    def _start_request():
        g.request_started = time.perf_counter()
        g.request_id_token = bind_request_id(valid_request_id(request.headers.get(REQUEST_ID_HEADER)))

    @app.after_request
    def _log_request(resp):
        rid = request_id_var.get()
        if rid:
            resp.headers[REQUEST_ID_HEADER] = rid
        started = g.pop("request_started", None)
        if started is not None and app.config.get("LOG_REQUESTS", True):
            # load balancer probes would drown the log: they are logged at DEBUG
            level = logging.DEBUG if request.path == "/health" else logging.INFO
            request_log.log(
                level,
                "%s %s %s",
                request.method,
                safe_path(),
                resp.status_code,
                extra={
                    "method": request.method,
                    "path": safe_path(),
                    "status": resp.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": _user_id(),
                    "event": "request",
                },
            )
        return resp

    @app.teardown_request
    def _end_request(exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                request_id_var.reset(token)
            except ValueError:  # set in another context (a streamed response)
                request_id_var.set(None)
