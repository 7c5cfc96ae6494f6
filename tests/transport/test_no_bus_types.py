"""A region without bus types (issue 14 item 9): a booking of a far class and every re-plan
log no ERROR and no traceback; one warning per region; the plan page says what is missing."""

from __future__ import annotations

import logging

from app.extensions import db
from app.timeutil import to_local
from app.transport import jobs, plans
from app.transport.models import BusPlan
from tests.transport.conftest import book, school_at


def test_region_without_bus_types_warns_once_and_the_plan_page_says_so(transport, client, login, caplog):
    for bus_type in (transport["coach"], transport["mini"]):
        db.session.delete(bus_type)
    db.session.commit()
    plans._warned_regions.discard(transport["region"].id)
    caplog.set_level(logging.INFO)
    for km in (20, 30):
        school, teacher = school_at(transport["region"], km)
        db.session.commit()
        book(teacher, school, transport["session"])
    jobs.replan_sessions([transport["session"].id])
    jobs.replan_sessions([transport["session"].id])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "no active bus types" in r.getMessage()]
    assert len(warnings) == 1
    plan = db.session.query(BusPlan).filter_by(session_id=transport["session"].id).one()
    assert not plan.buses and {w["code"] for w in plan.warnings} == {"no_bus"}  # each class: no bus, and why
    login(transport["coord"])
    day = to_local(transport["session"].starts_at).date().isoformat()
    page = client.get(f"/vervoer/?datum={day}")
    assert page.status_code == 200 and "geen bustypes" in page.text and 'data-code="no_bus"' in page.text
