"""The list queries' scope (app.scoping) agrees with the one-object gates (app.auth.permissions):
for every role, the sessions and offers a list shows are exactly those the gates let them manage."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth import permissions
from app.auth.models import Role, User
from app.db import utcnow
from app.extensions import db
from app.labs.models import Offer, Session
from app.scoping import offer_scope, region_scope, session_scope
from tests import factories


def _world():
    north, south = factories.region(), factories.region()
    lab, hotspot, far = factories.venue(north), factories.venue(north), factories.venue(south)
    when = utcnow() + timedelta(days=20)
    sessions = [
        factories.session(factories.offer(r, v), when) for r, v in ((north, lab), (north, hotspot), (south, far))
    ]
    users = {
        "admin": factories.user("admin"),
        "leader": factories.user("programme_leader", region=north),
        "coordinator": factories.user("coordinator", region=north, venues=[lab]),
        "teacher": factories.teacher(factories.school(north)),
    }
    db.session.commit()
    return sessions, users


def test_each_role_lists_the_sessions_and_offers_the_gates_let_it_manage(app):
    sessions, users = _world()
    everything = db.session.scalars(select(Session)).all()
    for name, user in users.items():
        listed = set(db.session.scalars(select(Session).join(Offer).where(*session_scope(user))))
        if permissions.is_teacher(user):
            assert listed == set(), name
            continue
        managed = {
            s
            for s in everything
            if permissions.can_manage_session(user, s)
            or (permissions.is_programme_leader(user) and permissions.same_region(user, s))
        }
        assert listed == managed, name
        offers = set(db.session.scalars(select(Offer).where(*offer_scope(user))))
        assert offers == {s.offer for s in managed}, name
    # by name, so the comparison above cannot pass on two empty sets
    lab_session, hotspot_session, far_session = sessions
    assert set(db.session.scalars(select(Session).join(Offer).where(*session_scope(users["coordinator"])))) == {
        lab_session
    }
    assert len(set(db.session.scalars(select(Session).join(Offer).where(*session_scope(users["admin"]))))) == 3


def test_region_scope_keeps_a_column_to_the_users_region(app):
    sessions, users = _world()
    north = users["leader"].region_id
    assert [str(c) for c in region_scope(users["admin"], Offer.region_id)] == []
    rows = db.session.scalars(select(Offer.region_id).where(*region_scope(users["leader"], Offer.region_id))).all()
    assert rows and set(rows) == {north}
    nowhere = User(role=Role.PROGRAMME_LEADER, region_id=None)  # (an account without a region sees nothing)
    assert db.session.scalars(select(Offer.id).where(*region_scope(nowhere, Offer.region_id))).all() == []
    assert db.session.scalars(select(Offer.id).where(*region_scope(None, Offer.region_id))).all() == []
