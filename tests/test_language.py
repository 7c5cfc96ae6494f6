"""Dutch first (issue 16, point 5): every page type and every mail, rendered in Dutch, asks the
translation layer only for texts the catalogue has, and shows no raw code of a known code list
(statuses, worlds, kinds, roles: "confirmed", "hitech_science", "draft", "holiday: …").

The pages are those of the authorization matrix (tests/auth/test_authorization_matrix.py), each
fetched as every role that may see it, in the matrix's world; the mails are every booking notice
rendered by the outbox worker's renderer, and the account mails."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import flask_babel
import pytest
from babel.messages.pofile import read_po

from app.auth.models import Role
from app.booking.models import BookingStatus
from app.extensions import db
from app.labs.models import OfferKind, SessionStatus, VenueKind, World
from app.transport.models import PlanStatus
from tests.auth import test_authorization_matrix as matrix

PO = Path(__file__).resolve().parents[1] / "app/translations/en/LC_MESSAGES/messages.po"
# the enum values that are also ordinary Dutch words (or product names) are no tell-tale of a raw code
DUTCH_WORDS = {"workshop", "techlab", "hotspot", "masterclass", "bo", "sbo", "so", "vso", "admin"}
CODES = sorted(
    {e.value for enum in (BookingStatus, World, OfferKind, SessionStatus, VenueKind, PlanStatus, Role) for e in enum}
    - DUTCH_WORDS
)
CODE_RE = re.compile(r"(?<![\w/.-])(" + "|".join(map(re.escape, CODES)) + r")(?![\w/.-])|\b(holiday|closed):\s")


class _Text(HTMLParser):
    """The text a reader sees (no tags, attributes, scripts or styles)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return " ".join(p.parts)


def raw_codes(text: str) -> list[str]:
    return sorted({m.group(0).strip() for m in CODE_RE.finditer(text)})


@pytest.fixture
def asked(monkeypatch):
    """Every msgid the translation layer is asked for while the test runs."""
    seen: set[str] = set()
    gettext, ngettext = flask_babel.Domain.gettext, flask_babel.Domain.ngettext

    def g(self, string, **variables):
        seen.add(string)
        return gettext(self, string, **variables)

    def n(self, singular, plural, num, **variables):
        seen.add(singular)
        return ngettext(self, singular, plural, num, **variables)

    monkeypatch.setattr(flask_babel.Domain, "gettext", g)
    monkeypatch.setattr(flask_babel.Domain, "ngettext", n)
    return seen


def _catalogue() -> set[str]:
    with open(PO, "rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def test_raw_code_finder():
    assert raw_codes("Status: confirmed, wereld hitech_science") == ["confirmed", "hitech_science"]
    assert raw_codes("holiday: Kerstvakantie") == ["holiday:"]
    assert raw_codes("Bevestigd · Hi-tech & Science · /boekingen/confirmed") == []


def test_every_page_in_dutch(app, asked):
    ids, session_ids, _bearer = matrix._world()
    found = []
    for c in matrix.MATRIX.values():
        if c.api or c.method != "GET":
            continue
        url = matrix._fill(c.url, ids)
        for role in ("anonymous", "teacher", "coordinator", "programme_leader", "admin"):
            if c.answers[role] != matrix.OK:
                continue
            client = app.test_client()
            if role != "anonymous":
                with client.session_transaction() as sess:
                    sess["_user_id"] = matrix._session_id(session_ids[role])
                    sess["_fresh"] = True
            resp = client.get(url, headers={"Accept-Language": "nl"})
            body = resp.get_data(as_text=True) if resp.status_code == 200 else ""
            resp.close()
            db.session.rollback()
            if resp.mimetype == "text/html":
                codes = raw_codes(visible_text(body))
            elif resp.mimetype in ("text/csv", "text/plain", "text/calendar"):
                codes = raw_codes(body)
            else:
                continue
            if codes:
                found.append(f"{url} as {role}: {codes}")
    missing = sorted(asked - _catalogue())
    assert not found, "raw codes on Dutch pages:\n  " + "\n  ".join(found)
    assert not missing, f"texts asked of the translation layer that the catalogue lacks: {missing[:20]}"


def test_every_mail_in_dutch(app, asked):
    from flask import render_template

    from app.booking import notify
    from app.booking.models import Booking

    ids, session_ids, _bearer = matrix._world()
    booking = db.session.get(Booking, ids["booking"])
    found = []
    with app.test_request_context("/"):
        for kind in notify.SUBJECTS:
            mail = notify.render(
                {
                    "template": kind,
                    "to": ["juf@example.org"],
                    "locale": "nl",
                    "booking_id": booking.id,
                    "booking_ids": [booking.id],
                    "extra": {},
                }
            )
            codes = raw_codes(mail.subject + "\n" + mail.body)
            if codes:
                found.append(f"mail {kind}: {codes}")
        user = booking.booked_by if getattr(booking, "booked_by", None) else None
        from app.auth.models import User

        user = user or db.session.get(User, session_ids["teacher"])
        for template, extra in (
            ("auth/mail/invitation.txt", {"days": 7, "invited_by": None}),
            ("auth/mail/password_reset.txt", {"minutes": 60}),
        ):
            with flask_babel.force_locale("nl"):
                body = render_template(template, user=user, link="https://example.org/x", **extra)
            codes = raw_codes(body)
            if codes:
                found.append(f"{template}: {codes}")
    missing = sorted(asked - _catalogue())
    assert not found, "raw codes in Dutch mails:\n  " + "\n  ".join(found)
    assert not missing, f"texts asked of the translation layer that the catalogue lacks: {missing[:20]}"
