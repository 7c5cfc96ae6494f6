"""Input at the door: the shapes every page, form and API parser accepts, in one place.

- whole numbers within the database's integer range (ids: 1..MAX_ID), see app.web.int_arg;
- dates within a sane range (years 2000–2100): ``parse_date`` and the form field ``DateField``;
- names: NFC, without bidi overrides or zero-width characters (``clean_name``, ``NameFilter``);
- text that ends up in a mail header: no CR/LF (``NoLineBreaks``, ``header_problem``);
- e-mail addresses: exactly one, checked as the forms check it (``email_problem``);
- file names in Content-Disposition: RFC 6266/5987 (``content_disposition``);
- JSON: nesting depth limited before it is parsed (``JSONProvider``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from urllib.parse import quote

from flask.json.provider import DefaultJSONProvider
from wtforms import DateField as _DateField

MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)

# ------------------------------------------------------------------ dates


def in_date_range(d: date) -> bool:
    if isinstance(d, datetime):
        d = d.date()
    return MIN_DATE <= d <= MAX_DATE


def parse_date(raw: str) -> date:
    """An ISO date (YYYY-MM-DD) in 2000..2100; ValueError for anything else."""
    d = date.fromisoformat(raw)
    if not in_date_range(d):
        raise ValueError("date out of range")
    return d


class DateField(_DateField):
    """WTForms' DateField, but a date outside 2000–2100 is not a date we plan or filter on:
    the field gets an error instead of a value that overflows date arithmetic further on."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not in_date_range(self.data):
            self.data = None
            from flask_babel import gettext as _

            raise ValueError(_("Kies een datum tussen %(first)s en %(last)s.", first=MIN_DATE.year, last=MAX_DATE.year))


# ------------------------------------------------------------------ names and header fields

# bidi embeddings/overrides/isolates and marks, zero-width characters, the BOM/word joiner, soft hyphen
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u061c\ufeff\u00ad\u180e]")
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def clean_name(value: str | None) -> str | None:
    """A name as we store it: Unicode NFC, without bidi overrides, zero-width or other
    invisible format characters (they make one name look like another, or turn text
    around in lists and mails), tabs as spaces, surrounding space removed. Line breaks are
    kept so that ``NoLineBreaks`` can refuse them with a message."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value)
    value = _INVISIBLE.sub("", value).replace("\t", " ")
    return value.strip()


def name_filter(value):
    """A WTForms filter: ``filters=[name_filter]`` on every free-text name field."""
    return clean_name(value) if isinstance(value, str) else value


def has_line_break(value: str | None) -> bool:
    return bool(value) and bool(_LINE_BREAKS.search(value) or _CONTROL.search(value))


class NoLineBreaks:
    """A WTForms validator: text that ends up in a mail header (a name, a title, an address)
    has no line breaks or control characters."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if isinstance(field.data, str) and has_line_break(field.data):
            from flask_babel import gettext as _
            from wtforms.validators import StopValidation

            raise StopValidation(self.message or _("Gebruik één regel, zonder regeleinden."))


def header_problem(value: str | None) -> str | None:
    """Why a text cannot go into a mail header, or None."""
    if has_line_break(value):
        return "must be one line, without line breaks or control characters"
    return None


def email_problem(value: str | None) -> str | None:
    """Why a text is not exactly one e-mail address (as the forms check it), or None."""
    if not value:
        return "is required"
    if has_line_break(value) or len(value) > 254:
        return "must be one e-mail address on one line"
    if any(ch in value for ch in ',;<>"() \t') or value.count("@") != 1:
        return "must be exactly one e-mail address"
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return "is not a valid e-mail address"
    return None


# ------------------------------------------------------------------ file names


def content_disposition(filename: str, kind: str = "attachment") -> str:
    """A Content-Disposition value for any file name (RFC 6266): an ASCII fallback in
    ``filename=`` and the real name, UTF-8 and percent-encoded, in ``filename*=`` (RFC 5987).
    The header stays Latin-1 (a carrier named in Cyrillic gave a 500)."""
    name = clean_name(_LINE_BREAKS.sub("", filename)) or "download"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip() or "download"
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != name:
        value += "; filename*=UTF-8''" + quote(name, safe="")
    return value


# ------------------------------------------------------------------ JSON

MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_too_deep(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays/objects deeper than ``limit`` (checked before
    parsing: Python's parser recurses, and a body of 100,000 ``[`` raised RecursionError)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if m.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with the nesting depth limited: a deeper body is a ValueError, which
    ``request.get_json`` answers as 400 Bad Request (or None when silent)."""

    def loads(self, s, **kwargs):
        if json_too_deep(s):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            return super().loads(s, **kwargs)
        except RecursionError:  # pragma: no cover — the check above comes first
            raise ValueError("JSON nested too deeply") from None


# ------------------------------------------------------------------ forms


def typed_text(field_class) -> bool:
    """A text field a person types in (not a password or hidden field)."""
    from wtforms import HiddenField, PasswordField, StringField

    return issubclass(field_class, StringField) and not issubclass(field_class, (PasswordField, HiddenField))


def single_line_text(field_class) -> bool:
    """A one-line text field a person types in (not a text area, password or hidden field)."""
    from wtforms import TextAreaField

    return typed_text(field_class) and not issubclass(field_class, TextAreaField)


def text_not_none(value):
    """A text field left out of the body is empty text, not None (a NOT NULL column gave a 500)."""
    return "" if value is None else value


def install_form_rules() -> None:
    """Every text field of every form (FlaskForm) reads a missing value as "" and every
    one-line text field gets, when it is bound: ``name_filter`` (NFC, no bidi overrides or zero-width characters) and ``NoLineBreaks``
    (what ends up in a mail header — a contact name or address, an offer title, a venue
    name — never carries CR/LF). One rule at the door instead of a line per field; text
    areas (remarks, descriptions) keep their line breaks, passwords are left as typed."""
    from flask_wtf import FlaskForm

    meta = FlaskForm.Meta
    if getattr(meta, "_input_rules", False):
        return
    default_bind = meta.bind_field

    def bind_field(self, form, unbound_field, options):
        if typed_text(unbound_field.field_class) and len(unbound_field.args) <= 1:
            kwargs = unbound_field.kwargs
            filters = [text_not_none, *kwargs.get("filters", ())]
            validators = list(kwargs.get("validators") or ())
            if single_line_text(unbound_field.field_class):
                filters.insert(1, name_filter)
                validators.insert(0, NoLineBreaks())
            return unbound_field.bind(form=form, filters=filters, validators=validators, **options)
        return default_bind(self, form, unbound_field, options)

    meta.bind_field = bind_field
    meta._input_rules = True
