"""Helpers for request handlers and templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, TypeVar

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from flask_login import current_user

from app.auth import permissions
from app.extensions import db
from app.labels import (
    BOOKING_STATUS_LABELS,
    KIT_LOAN_STATUS_LABELS,
    OFFER_KIND_LABELS,
    ROLE_LABELS,
    VENUE_KIND_LABELS,
    WORLD_LABELS,
    groep_label,
    groep_range,
)

T = TypeVar("T")


def load_or_404(model: type[T], ident: Any, check: Callable[[Any, T], bool] = permissions.can_view) -> T:
    """Load an object, or 404; then check access.

    An object of another region answers 404, as if it did not exist (no leaking of
    what other regions have); a forbidden object of one's own region answers 403.
    """
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    user = current_user if current_user.is_authenticated else None
    if not permissions.is_admin(user):
        try:
            if not permissions.same_region(user, obj):
                abort(404)
        except TypeError:
            pass
    if not check(user, obj):
        abort(403)
    return obj


def safe_next(target: str | None, default: str) -> str:
    """Only local paths are followed after login (no open redirects).

    Refused: other hosts (``//evil``, ``https://evil``), schemes (``javascript:``),
    backslashes (``/\\evil``, which browsers read as ``//evil``) and whitespace or
    control characters (browsers drop tabs and newlines, so ``/<tab>/evil`` is ``//evil``).
    """
    from urllib.parse import urlsplit

    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def int_arg(name: str, default: int | None = None, lo: int | None = None, hi: int | None = None) -> int | None:
    """A whole number from the query string, or ``default`` when it is missing, not a
    number or outside lo..hi (always within the database's integer range: hi is at most
    MAX_ID, larger numbers name no object; lo at least -MAX_ID-1)."""
    return _int_value(request.args.get(name, ""), default, lo, hi)


# Request bodies per endpoint (issue 14 item 8): urlencoded forms are parsed whole, so only the
# body limit bounds their parsing. Every request gets MAX_BODY_BYTES; sign-in and the other
# forms anyone can post without an account get MAX_AUTH_BODY_BYTES; the CSV uploads more; only
# the DUO upload gets MAX_CONTENT_LENGTH (which is nginx's client_max_body_size, deploy/).
AUTH_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.forgot_password",
        "auth.reset_password",
        "auth.accept_invitation",
        "auth.login_link_request",
        "auth.login_link",
        "auth.logout",
        "api.create_token",
        "main.set_language",
    }
)
UPLOAD_ENDPOINTS = frozenset({"admin.holidays", "transport.distances", "labs.material_upload"})
LARGE_UPLOAD_ENDPOINTS = frozenset({"admin.duo_import"})


def body_limit(endpoint: str | None) -> int:
    """The largest request body (bytes) this endpoint reads."""
    from flask import current_app

    cfg = current_app.config
    largest = cfg["MAX_CONTENT_LENGTH"]
    if endpoint in LARGE_UPLOAD_ENDPOINTS:
        return largest
    if endpoint in UPLOAD_ENDPOINTS:
        return min(largest, cfg["MAX_CSV_UPLOAD_BYTES"])
    if endpoint in AUTH_ENDPOINTS:
        return min(largest, cfg["MAX_AUTH_BODY_BYTES"])
    return min(largest, cfg["MAX_BODY_BYTES"])


def limit_request_body() -> None:
    """Set this request's body limit before anything reads the body (CSRF, the NUL guard)."""
    request.max_content_length = body_limit(request.endpoint)


def refuse_deep_json() -> None:
    """400 for a JSON body nested deeper than we ever send, before anything else reads it
    (also before the API asks for a token: the parser is the first thing a body reaches)."""
    from werkzeug.exceptions import RequestEntityTooLarge

    from app.inputs import MAX_JSON_DEPTH, json_too_deep

    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.is_json:
        try:
            body = request.get_data(cache=True)
        except RequestEntityTooLarge:
            return
        if json_too_deep(body):
            abort(400, description=f"JSON may be nested at most {MAX_JSON_DEPTH} levels deep.")


def refuse_nul_characters() -> None:
    """400 for a request whose path, query, form or JSON text holds a NUL character.

    No text of ours can contain one, and PostgreSQL refuses it in any text value (where
    SQLite would store it): one guard here instead of a 500 wherever text reaches a query."""

    def has_nul(value) -> bool:
        if isinstance(value, str):
            return "\x00" in value
        if isinstance(value, dict):
            return any(has_nul(k) or has_nul(v) for k, v in value.items())
        if isinstance(value, list):
            return any(has_nul(v) for v in value)
        return False

    from werkzeug.exceptions import RequestEntityTooLarge

    try:
        found = (
            has_nul(request.path)
            or any(has_nul(k) or has_nul(v) for k, v in request.args.items(multi=True))
            or (
                request.method in ("POST", "PUT", "PATCH", "DELETE")
                and (
                    any(has_nul(k) or has_nul(v) for k, v in request.form.items(multi=True))
                    or (request.is_json and has_nul(request.get_json(silent=True)))
                )
            )
        )
    except RequestEntityTooLarge:
        if request.endpoint in UPLOAD_ENDPOINTS | LARGE_UPLOAD_ENDPOINTS:
            return  # the upload pages say themselves what was too large
        raise  # too many parts, a field too large: a body that was only partly read is not handled
    if found:
        abort(400, description="Text may not contain NUL characters.")


def form_id(name: str) -> int | None:
    """An object id posted in a form field, or None when it is not one."""
    return _int_value(request.form.get(name, ""), None, 1, None)


def form_ids(name: str) -> list[int]:
    """The object ids posted in a repeated form field (checkboxes); others are left out."""
    return [i for i in (_int_value(raw, None, 1, None) for raw in request.form.getlist(name)) if i is not None]


def _int_value(raw: str, default: int | None, lo: int | None, hi: int | None) -> int | None:
    from app.db import MAX_ID

    hi = MAX_ID if hi is None else min(hi, MAX_ID)
    lo = -MAX_ID - 1 if lo is None else max(lo, -MAX_ID - 1)
    raw = raw.strip()
    if len(raw) > 20:
        return default
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    if value < lo:
        return default
    if value > hi:
        return default
    return value


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: at most MAX_ID, so /boekingen/99999999999 is a 404
    (as any id that names nothing), not a database error."""

    def __init__(
        self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False
    ) -> None:
        from app.db import MAX_ID

        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max, signed=signed)


def static_fingerprint(static_folder: str, filename: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of a static file (None when it does not exist),
    cached per file and modification time."""
    import hashlib
    import os

    path = os.path.join(static_folder, filename)
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    key = (path, mtime)
    if key not in _FINGERPRINTS:
        with open(path, "rb") as fh:
            _FINGERPRINTS[key] = hashlib.sha256(fh.read()).hexdigest()[:12]
    return _FINGERPRINTS[key]


_FINGERPRINTS: dict = {}
STATIC_MAX_AGE = 365 * 24 * 3600  # seconds a fingerprinted static file is kept


def register_template_helpers(app: Flask) -> None:
    @app.url_defaults
    def fingerprint_static_urls(endpoint, values):
        """Static URLs carry their content's fingerprint (?v=…): a changed file is a new URL,
        so a proxy may cache static files for a long time (deploy/nginx-techlab.conf)."""
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = static_fingerprint(app.static_folder, values["filename"])
            if digest:
                values["v"] = digest

    default_max_age = app.get_send_file_max_age

    def get_send_file_max_age(filename: str | None) -> int | None:
        """A static file asked for by its fingerprint is kept a year (the URL changes with the
        content); any other, by the default (revalidated). The same as nginx in front."""
        v = request.args.get("v") if filename else None
        if v and request.endpoint == "static" and v == static_fingerprint(app.static_folder, filename):
            return STATIC_MAX_AGE
        return default_max_age(filename)

    app.get_send_file_max_age = get_send_file_max_age

    from app import formats

    formats.register(app)  # Dutch numbers and plurals: |km, places_text(), pupils_text(), classes_text()

    @app.template_filter("local_dt")
    def local_dt(dt: datetime | None, fmt: str = "EEEE d MMMM y HH:mm") -> str:
        return format_datetime(dt, fmt) if dt else ""

    @app.template_filter("local_date")
    def local_date(dt, fmt: str = "EEE d MMM y") -> str:
        return format_date(dt, fmt) if dt else ""

    @app.template_filter("local_time")
    def local_time(dt: datetime | None) -> str:
        return format_time(dt, "HH:mm") if dt else ""

    @app.template_global("scroll_region")
    def scroll_region() -> Markup:
        """Attributes of a box that scrolls sideways (a wide table): reachable and named for the
        keyboard and screen readers (WCAG 2.1.1), as in <div class="table-wrap" {{ scroll_region() }}>."""
        return Markup('tabindex="0" role="region" aria-label="%s"') % _("Tabel, schuif opzij voor meer kolommen")

    @app.template_global("describe_event")
    def describe_event(event) -> str:
        """A booking event in words with its actor (app.booking.history): never a raw action code."""
        from app.booking.history import describe_event as describe

        return describe(event)

    @app.template_global("school_choice_label")
    def school_choice_label(school) -> str:
        from app.schools.lookup import school_choice_label as label

        return label(school)

    @app.template_global("undo_offer")
    def undo_offer():
        """The booking the user just cancelled, while its cancellation may still be undone (the
        "Ongedaan maken" button under the flash message); None otherwise."""
        from flask import session as session_store
        from flask_login import current_user

        booking_id = session_store.pop("undo_booking", None)  # offered once, under the flash it belongs to
        if not booking_id or not current_user.is_authenticated:
            return None
        from app.booking.models import Booking
        from app.booking.services import can_undo_cancel

        booking = db.session.get(Booking, booking_id)
        if booking is None or not can_undo_cancel(current_user, booking):
            return None
        return booking

    @app.context_processor
    def inject():
        return {
            "perm": permissions,
            "WORLD_LABELS": WORLD_LABELS,
            "VENUE_KIND_LABELS": VENUE_KIND_LABELS,
            "OFFER_KIND_LABELS": OFFER_KIND_LABELS,
            "BOOKING_STATUS_LABELS": BOOKING_STATUS_LABELS,
            "ROLE_LABELS": ROLE_LABELS,
            "KIT_LOAN_STATUS_LABELS": KIT_LOAN_STATUS_LABELS,
            "groep_label": groep_label,
            "groep_range": groep_range,
            "nav_items": nav_items,
            "get_locale": get_locale,
            "today_iso": lambda: date.today().isoformat(),
        }


# The menu per role: (endpoint, label). Every endpoint must exist (a test builds every menu).
def _nav_spec():
    from flask_babel import lazy_gettext as _l

    return {
        "teacher": [("booking.my_bookings", _l("Mijn boekingen")), ("calendar.settings", _l("Agenda"))],
        "coordinator": [
            ("desk.bookings", _l("Boekingen")),
            ("booking.requests", _l("Aanvragen")),
            ("desk.week", _l("Week")),
            ("labs.dashboard", _l("Mijn techlabs")),
            ("labs.calendar", _l("Agenda")),
            ("transport.plans", _l("Busplanning")),
            ("reporting.dashboard", _l("Bereik")),
        ],
        "programme_leader": [
            ("reporting.dashboard", _l("Bereik")),
            ("fairness.rules", _l("Spelregels")),
            ("fairness.rounds", _l("Aanvraagrondes")),
            ("admin.index", _l("Regiobeheer")),
        ],
        "school_coordinator": [
            ("school.bookings", _l("Boekingen van de school")),
            ("school.classes", _l("Klassen")),
            ("school.teachers", _l("Leerkrachten")),
            ("calendar.settings", _l("Agenda")),
        ],
        "admin": [
            ("reporting.dashboard", _l("Bereik")),
            ("labs.dashboard", _l("Locaties")),
            ("admin.duo_import", _l("Scholen")),
            ("admin.index", _l("Beheer")),
        ],
    }


def nav_items(user) -> list[dict]:
    from flask import url_for

    return [{"url": url_for(endpoint), "label": label} for endpoint, label in _nav_spec().get(user.role.value, [])]


def put_back(form, exc, default_field: str | None = None) -> None:
    """Put a domain error back on its form field, or on ``default_field`` when it names none (or
    flash it when it names no field of the form, or there is no form)."""
    from flask import flash

    name = exc.field or default_field
    field = getattr(form, name, None) if name and form is not None else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [exc.message]
    else:
        flash(exc.message, "error")


@dataclass
class Outcome:
    """What a form or action handler did: ``ok`` (truthy) with the service's ``result``, or not,
    with the status to answer a re-shown form with (200 not posted, 422 invalid, 409 conflict)."""

    ok: bool
    result: Any = None
    status: int = 200

    def __bool__(self) -> bool:
        return self.ok


def attempt(
    action: Callable[[], Any], success=None, form=None, *, reraise: tuple[int, ...] = (), field: str | None = None
) -> Outcome:
    """Call one domain service inside the request's unit of work, without committing.

    The service's changes are flushed here, so the database's own guards (a unique index) answer
    now. On a DomainError (or such a conflict) the session is rolled back, so whatever the failed
    service wrote is gone even when the handler then redirects (the unit of work commits a 3xx),
    and the error goes back on ``form`` (its field, or a flash). On success ``success`` (a text, or
    a function of the service's result) is flashed. app/unit_of_work.py commits at the end of the
    request; a conflict found only then (a serialization failure) is its 409. A DomainError whose
    status is in ``reraise`` (403, 404) is raised after the rollback: the error page answers it;
    ``field`` names the form field an error that names none goes on (instead of a flash)."""
    from flask import flash
    from sqlalchemy.exc import DBAPIError, IntegrityError

    from app.errors import ConflictError, DomainError
    from app.unit_of_work import is_contention, rollback_request

    try:
        result = action()
        db.session.flush()
    except DomainError as exc:
        rollback_request()
        if exc.status in reraise:
            raise
        put_back(form, exc, field)
        return Outcome(False, status=409 if exc.status == 409 else 422)
    except IntegrityError:
        rollback_request()
        put_back(form, ConflictError(_("Iemand anders was u net voor. Probeer het opnieuw.")))
        return Outcome(False, status=409)
    except DBAPIError as exc:
        rollback_request()
        if not is_contention(exc):
            raise
        put_back(form, ConflictError(_("Het is even druk. Probeer het opnieuw.")))
        return Outcome(False, status=409)
    if success is not None:
        flash(success(result) if callable(success) else success, "success")
    return Outcome(True, result)


def handle_form(form, action: Callable[[], Any], success=None, *, field: str | None = None) -> Outcome:
    """Validate a posted form, then ``attempt`` the service call: the one form skeleton.

    Not posted: not ok, status 200 (show the form). Invalid: not ok, 422, the field errors on
    the form. Refused by the domain: not ok, 422 (409 for a conflict), the error on the form and
    nothing written. Done: ok, ``success`` flashed; the handler redirects and the unit of work
    commits."""
    if not form.validate_on_submit():
        return Outcome(False, status=422 if form.errors else 200)
    return attempt(action, success, form, field=field)
