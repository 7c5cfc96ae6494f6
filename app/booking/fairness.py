"""The region's fairness rules, checked inside the booking lock.

The booking service calls ``check_booking_rules`` after it has locked the school row
and the sessions, so concurrent requests of one school cannot slip past a quota. A
refusal is a ``RuleRefused`` with the rule's code (``quota_school_year``,
``priority_window`` …), a plain Dutch explanation and what the teacher can do instead.

Rules per region and school year (FairnessRule):

* ``max_per_school``: at most N bookings of a school in a scope; a series counts once;
* ``max_per_class``: at most N bookings of one class of a school (its class name) in a scope;
* ``priority_window``: from window_start until the release date (window_end) only
  schools not yet reached this school year (or below a share of pupils reached) book;
  "reached" is defined once, in app.booking.reached.

The rules are one part of the admission decision (app.booking.admission.decide), which every
path that gives a class a place asks.

Scopes: the whole school year, a term (window_start..window_end), one offer (or, with
no value, each offer separately), an offer kind, or a world of technology.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session as OrmSession

from app.booking.errors import Refused
from app.booking.models import ACTIVE, Booking, FairnessRule, RuleKind, RuleScope
from app.booking.reached import is_reached, reached_condition, year_window
from app.extensions import db
from app.labs.models import Offer, Session
from app.timeutil import school_year_of, to_local


class RuleRefused(Refused):
    """A fairness rule refuses; ``rule_id`` names it."""


@dataclass(frozen=True)
class Candidate:
    """What is being booked, as the rules see it."""

    school_id: int
    region_id: int
    groep_min: int
    groep_max: int
    offer: Offer
    starts_at: datetime
    class_name: str = ""
    # bookings not to count (the waiting entry being promoted, the booking being moved)
    exclude_ids: tuple = ()


@functools.cache
def _rules_stmt():
    """Built once per process, on first use."""
    return (
        select(FairnessRule)
        .where(
            FairnessRule.region_id == bindparam("region_id"),
            FairnessRule.school_year == bindparam("school_year"),
            FairnessRule.active.is_(True),
        )
        .order_by(FairnessRule.id)
    )


_FRESH_RULES = "fairness_rules_fresh"


def remember_rules(regions) -> None:
    """The booking lock read these regions' active rules in its own statement (see
    app.booking.locking.lock_sessions): the rules in force are taken from there until the
    transaction ends or the session flushes (a flush may have changed a rule)."""
    db.session.info[_FRESH_RULES] = (
        db.session().get_transaction(),
        {r.id: list(r.active_fairness_rules) for r in regions},
    )


@event.listens_for(OrmSession, "after_flush")
def _forget_rules(session, flush_context):
    session.info.pop(_FRESH_RULES, None)


def rules_in_force(region_id: int, school_year: int) -> list[FairnessRule]:
    fresh = db.session.info.get(_FRESH_RULES)
    if fresh is not None and fresh[0] is db.session().get_transaction() and region_id in fresh[1]:
        return [r for r in fresh[1][region_id] if r.school_year == school_year]
    return list(db.session.scalars(_rules_stmt(), {"region_id": region_id, "school_year": school_year}))


def _year_window(school_year: int) -> tuple[datetime, datetime]:
    return year_window(school_year)


def rule_applies(rule: FairnessRule, offer: Offer, starts_at: datetime) -> bool:
    if rule.scope == RuleScope.OFFER and rule.scope_value:
        return str(offer.id) == rule.scope_value
    if rule.scope == RuleScope.OFFER_KIND:
        return offer.kind.value == rule.scope_value
    if rule.scope == RuleScope.WORLD:
        return offer.world.value == rule.scope_value
    if rule.scope == RuleScope.TERM and rule.kind != RuleKind.PRIORITY_WINDOW:
        return (rule.window_start is None or starts_at >= rule.window_start) and (
            rule.window_end is None or starts_at < rule.window_end
        )
    return True


def _scope_filter(rule: FairnessRule, offer: Offer):
    conds = []
    if rule.scope == RuleScope.OFFER:
        conds.append(Offer.id == (int(rule.scope_value) if rule.scope_value else offer.id))
    elif rule.scope == RuleScope.OFFER_KIND:
        conds.append(Offer.kind == offer.kind)
    elif rule.scope == RuleScope.WORLD:
        conds.append(Offer.world == offer.world)
    elif rule.scope == RuleScope.TERM:
        if rule.window_start is not None:
            conds.append(Session.starts_at >= rule.window_start)
        if rule.window_end is not None:
            conds.append(Session.starts_at < rule.window_end)
    return conds


def count_bookings(rule: FairnessRule, c: Candidate, per_class: bool) -> int:
    """Bookings of the school (or class) in the rule's scope; a series counts once."""
    start, end = _year_window(rule.school_year)
    unit = func.coalesce(Booking.series_id * -1, Booking.id)
    stmt = (
        select(func.count(func.distinct(unit)))
        .select_from(Booking)
        .join(Session, Booking.session_id == Session.id)
        .join(Offer, Session.offer_id == Offer.id)
        .where(
            Booking.school_id == c.school_id,
            Booking.status.in_(ACTIVE),
            Offer.region_id == c.region_id,
            Session.starts_at >= start,
            Session.starts_at < end,
            *_scope_filter(rule, c.offer),
        )
    )
    if per_class:
        if c.class_name:
            stmt = stmt.where(func.lower(Booking.class_name) == c.class_name.lower())
        else:
            stmt = stmt.where(Booking.groep_min <= c.groep_max, Booking.groep_max >= c.groep_min)
    if c.exclude_ids:
        stmt = stmt.where(Booking.id.not_in(list(c.exclude_ids)))
    return db.session.scalar(stmt) or 0


def reach_share(school_id: int, school_year: int) -> float:
    """Share of the school's pupils reached this school year (distinct classes)."""
    from app.schools.enrolment import enrolment_by_groep

    groepen = enrolment_by_groep([school_id], school_year).get(school_id) or enrolment_by_groep(
        [school_id], school_year - 1
    ).get(school_id)
    total = sum(g.pupils for g in groepen or [])
    if not total:
        return 0.0
    start, end = _year_window(school_year)
    rows = db.session.execute(
        select(Booking.groep_min, Booking.groep_max, func.max(Booking.pupils))
        .join(Session, Booking.session_id == Session.id)
        .where(Booking.school_id == school_id, reached_condition(), Session.starts_at >= start, Session.starts_at < end)
        .group_by(Booking.groep_min, Booking.groep_max)
    ).all()
    return min(1.0, sum(r[2] for r in rows) / total)


def _date(dt: datetime | None) -> str:
    return to_local(dt).strftime("%d-%m-%Y") if dt else ""


def explain(rule: FairnessRule) -> str:
    """The rule in plain Dutch, as shown on the rules page."""
    scope = {
        RuleScope.YEAR: _("per schooljaar"),
        RuleScope.TERM: _("van %(a)s tot %(b)s", a=_date(rule.window_start), b=_date(rule.window_end)),
        RuleScope.OFFER: _("per aanbod") if not rule.scope_value else _("voor aanbod %(v)s", v=rule.scope_value),
        RuleScope.OFFER_KIND: _("voor %(v)s", v=rule.scope_value),
        RuleScope.WORLD: _("binnen de wereld %(v)s", v=rule.scope_value),
    }[rule.scope]
    if rule.kind == RuleKind.MAX_PER_SCHOOL:
        return _("Een school boekt hoogstens %(n)s keer %(scope)s.", n=rule.max_count, scope=scope)
    if rule.kind == RuleKind.MAX_PER_CLASS:
        return _("Een klas boekt hoogstens %(n)s keer %(scope)s.", n=rule.max_count, scope=scope)
    return _(
        "Van %(a)s tot %(b)s boeken eerst de scholen die dit schooljaar nog niet bereikt zijn; daarna staat "
        "wat over is open voor iedereen.",
        a=_date(rule.window_start),
        b=_date(rule.window_end),
    )


CODES = {
    RuleScope.YEAR: "quota_school_year",
    RuleScope.TERM: "quota_school_term",
    RuleScope.OFFER: "quota_school_offer",
    RuleScope.OFFER_KIND: "quota_school_kind",
    RuleScope.WORLD: "quota_school_world",
}


def check_candidate(c: Candidate, now: datetime, rules: list[FairnessRule] | None = None) -> None:
    """Raise RuleRefused when a rule in force refuses this booking."""
    year = school_year_of(c.starts_at)
    for rule in rules if rules is not None else rules_in_force(c.region_id, year):
        if not rule_applies(rule, c.offer, c.starts_at):
            continue
        if rule.kind == RuleKind.PRIORITY_WINDOW:
            if rule.window_start and now < rule.window_start or rule.window_end and now >= rule.window_end:
                continue
            if rule.max_reach_share is not None:
                allowed = reach_share(c.school_id, year) < rule.max_reach_share
            else:
                allowed = not is_reached(c.school_id, c.region_id, year, c.exclude_ids)
            if not allowed:
                raise RuleRefused(
                    _(
                        "Tot %(date)s zijn de plaatsen eerst voor scholen die dit schooljaar nog niet bereikt zijn. "
                        "Uw school is al bereikt. Vanaf %(date)s kunt u boeken wat er over is; u kunt nu al op de "
                        "wachtlijst.",
                        date=_date(rule.window_end),
                    ),
                    what_to_do=_(
                        "Zet uw klas op de wachtlijst: na %(date)s krijgt u de plaats als die er nog is.",
                        date=_date(rule.window_end),
                    ),
                    code="priority_window",
                    rule_id=rule.id,
                    release_at=rule.window_end.isoformat() if rule.window_end else None,
                )
            continue
        per_class = rule.kind == RuleKind.MAX_PER_CLASS
        used = count_bookings(rule, c, per_class)
        if rule.max_count is not None and used + 1 > rule.max_count:
            if per_class:
                raise RuleRefused(
                    _(
                        "Deze klas heeft hier al %(n)s keer geboekt (%(rule)s). Kies ander aanbod, zodat "
                        "ook andere klassen aan de beurt komen.",
                        n=used,
                        rule=explain(rule),
                    ),
                    code="quota_class",
                    rule_id=rule.id,
                    field="class_name",
                    what_to_do=_("Kies ander aanbod of boek voor een andere klas."),
                )
            raise RuleRefused(
                _(
                    "Uw school heeft al %(n)s boekingen (%(rule)s). Annuleer eerst een andere boeking of "
                    "vraag de coördinator om een uitzondering.",
                    n=used,
                    rule=explain(rule),
                ),
                code=CODES[rule.scope],
                rule_id=rule.id,
                what_to_do=_("Annuleer eerst een andere boeking of vraag de coördinator om een uitzondering."),
            )


def check_booking_rules(
    actor, school, sessions, groep_min: int, groep_max: int, now, *, class_name: str = "", exclude_ids=()
) -> None:
    """Check every rule for a booking (a series counts once, against its first part).

    Called only by app.booking.admission.decide, the one admission decision."""
    first = min(sessions, key=lambda s: s.starts_at)
    check_candidate(
        Candidate(
            school.id,
            first.offer.region_id,
            groep_min,
            groep_max,
            first.offer,
            first.starts_at,
            class_name=class_name,
            exclude_ids=tuple(exclude_ids),
        ),
        now,
    )
