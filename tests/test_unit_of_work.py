"""One unit of work per request: committed once after a successful answer, never after a
refusal or an error, and a conflict at the commit is a 409, not a 500."""

from __future__ import annotations

import pytest
from flask import Blueprint, abort
from sqlalchemy import func, select

from app.auth.models import HolidayRegion, Region
from app.db import utcnow
from app.extensions import db
from tests import probe_app

bp = Blueprint("uow_probe", __name__)


def _region(name):
    return Region(code=name.lower(), name=name, holiday_region=list(HolidayRegion)[0], created_at=utcnow())


def _add(name):
    db.session.add(_region(name))
    db.session.flush()


@bp.post("/uow/ok/<name>")
def ok(name):
    _add(name)  # no commit in the handler
    return "ok"


@bp.post("/uow/refused/<name>")
def refused(name):
    _add(name)
    return "nee", 422


@bp.post("/uow/error/<name>")
def error(name):
    _add(name)
    abort(403)


@bp.post("/uow/duplicate/<name>")
def duplicate(name):
    db.session.add(_region(name))  # the unique code fails at the commit
    return "ok"


@pytest.fixture
def probe_client(app):
    with probe_app.probe_client(app, bp) as client:
        yield client


def _count(name):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Region).where(Region.name == name))


def test_a_successful_answer_commits_once_after_the_handler(probe_client):
    assert probe_client.post("/uow/ok/Alpha").status_code == 200
    assert _count("Alpha") == 1


@pytest.mark.parametrize("path, status", [("/uow/refused/Beta", 422), ("/uow/error/Gamma", 403)])
def test_a_refusal_or_an_error_leaves_nothing_behind(probe_client, path, status):
    assert probe_client.post(path).status_code == status
    assert _count(path.rsplit("/", 1)[1]) == 0


def test_a_conflict_found_at_the_commit_is_a_409_problem(probe_client):
    assert probe_client.post("/uow/ok/Delta").status_code == 200
    resp = probe_client.post("/uow/duplicate/Delta", headers={"Accept": "application/json"})
    assert resp.status_code == 409
    assert _count("Delta") == 1
