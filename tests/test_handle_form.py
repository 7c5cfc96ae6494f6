"""The one form/action skeleton (app/web.py ``handle_form`` and ``attempt``): a refused service
call leaves nothing written, also when the handler then redirects (an answer the unit of work
commits); a done one is committed once by the unit of work; steps outside the database follow
the transaction (``after_commit``, ``after_rollback``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask import Blueprint, get_flashed_messages, redirect
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.validators import DataRequired

from app.auth.models import HolidayRegion, Region
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.unit_of_work import after_commit, after_rollback
from app.web import attempt, handle_form
from tests.probe_app import probe_client

bp = Blueprint("form_probe", __name__)
EVENTS: list[str] = []


class NameForm(FlaskForm):
    name = StringField("Naam", validators=[DataRequired()])


def _write(name: str, *, refuse: bool = False, field: str | None = "name") -> Region:
    """A service that writes a region, then (when ``refuse``) refuses after writing."""
    region = Region(code=name.lower(), name=name, holiday_region=list(HolidayRegion)[0], created_at=utcnow())
    db.session.add(region)
    db.session.flush()
    after_commit(lambda: EVENTS.append(f"committed {name}"))
    after_rollback(lambda: EVENTS.append(f"rolled back {name}"))
    if refuse:
        raise DomainError("Nee.", field=field)
    return region


def _page(form, status):
    messages = "|".join(get_flashed_messages())
    return f"errors={form.name.errors} flashed={messages}", status


@bp.post("/form/<name>")
def form_page(name):
    form = NameForm()
    done = handle_form(form, lambda: _write(name, refuse=name.startswith("Nee")), "Opgeslagen.")
    if done:
        return redirect("/klaar")
    return _page(form, done.status)


@bp.post("/action/<name>")
def action(name):
    attempt(lambda: _write(name, refuse=name.startswith("Nee"), field=None), lambda r: f"{r.name} opgeslagen.")
    return redirect("/klaar")  # a redirect is committed by the unit of work, after a refusal too


@bp.post("/duplicate/<name>")
def duplicate(name):
    done = attempt(lambda: _write(name))  # the unique code fails at the helper's flush
    return ("ok", 200) if done else ("conflict", done.status)


@pytest.fixture
def probe(app):
    EVENTS.clear()
    with probe_client(app, bp) as client:
        yield client


def _count(name):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Region).where(Region.name == name))


def test_a_valid_form_is_done_and_committed_once_by_the_unit_of_work(probe):
    resp = probe.post("/form/Alpha", data={"name": "x"})
    assert resp.status_code == 302
    assert _count("Alpha") == 1
    assert EVENTS == ["committed Alpha"]


def test_an_invalid_form_calls_nothing_and_answers_422(probe):
    resp = probe.post("/form/Beta", data={"name": ""})
    assert resp.status_code == 422 and "errors=[]" not in resp.text
    assert _count("Beta") == 0
    assert EVENTS == []


def test_a_refused_form_is_shown_again_with_the_error_on_its_field_and_nothing_written(probe):
    resp = probe.post("/form/NeeGamma", data={"name": "x"})
    assert resp.status_code == 422
    assert "errors=['Nee.']" in resp.text and "flashed=|" not in resp.text
    assert _count("NeeGamma") == 0
    assert EVENTS == ["rolled back NeeGamma"]


def test_a_refused_action_followed_by_a_redirect_leaves_nothing_written(probe):
    """The redirect is a success for the unit of work (it commits): the helper's own rollback is
    what keeps the refused service's row out."""
    resp = probe.post("/action/NeeDelta")
    assert resp.status_code == 302
    assert _count("NeeDelta") == 0
    assert EVENTS == ["rolled back NeeDelta"]
    with probe.session_transaction() as session:
        assert ("error", "Nee.") in session.get("_flashes", [])


def test_a_done_action_flashes_its_message_and_is_committed(probe):
    resp = probe.post("/action/Epsilon")
    assert resp.status_code == 302
    assert _count("Epsilon") == 1
    with probe.session_transaction() as session:
        assert ("success", "Epsilon opgeslagen.") in session.get("_flashes", [])
    assert EVENTS == ["committed Epsilon"]


def test_a_conflict_the_database_finds_is_a_409_with_nothing_written(probe):
    assert probe.post("/duplicate/Zeta").status_code == 200
    resp = probe.post("/duplicate/Zeta")
    assert resp.status_code == 409
    assert _count("Zeta") == 1
    assert EVENTS == ["committed Zeta"]  # the second call failed at its flush, before it registered anything


def test_no_handler_commits_and_every_long_one_is_explained():
    """`make handlers --strict` over the whole of app/: no handler commits without a reason, and
    every handler over the length limit is explained."""
    root = Path(__file__).resolve().parents[1]
    args = [sys.executable, str(root / "scripts" / "handlers.py"), "--strict"]
    result = subprocess.run(args, capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
