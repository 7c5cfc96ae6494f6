"""Request rounds: teachers state ranked wishes until the deadline; then a fair allocation."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth import permissions
from app.auth.models import Role, User
from app.booking.allocation import RequestIn, SchoolIn, allocate
from app.booking.errors import InvalidInput, NotAllowed, Refused
from app.booking.fairness import RuleRefused, _year_window, rules_in_force
from app.booking.locking import lock_sessions
from app.booking.models import (
    ACTIVE, HOLDS_PLACE, Booking, RequestRound, RoundRequest, RoundStatus, RoundWish, RuleKind,
)
from app.db import utcnow
from app.extensions import db
from app.labels import parse_groep
from app.labs.models import Offer, Session, SessionStatus
from app.schools.models import School


def create_round(actor: User, *, title: str, opens_at: datetime, deadline_at: datetime, school_year: int,
                 description: str = "", weight_distance: float = 0.0, weight_cbs: float = 0.0) -> RequestRound:
    if not (permissions.is_programme_leader(actor) or permissions.is_coordinator(actor) or permissions.is_admin(actor)):
        raise NotAllowed(_("Alleen programmaleiders en coördinatoren maken aanvraagrondes."))
    if deadline_at <= opens_at:
        raise InvalidInput(_("De sluitingsdatum moet na de openingsdatum liggen."), field="deadline_at")
    if not 0 <= weight_distance <= 5 or not 0 <= weight_cbs <= 5:
        raise InvalidInput(_("Gewichten liggen tussen 0 en 5."), field="weight_distance")
    rnd = RequestRound(region_id=actor.region_id, school_year=school_year, title=title.strip()[:200],
                       description=description, opens_at=opens_at, deadline_at=deadline_at,
                       weight_distance=weight_distance, weight_cbs=weight_cbs)
    db.session.add(rnd)
    db.session.flush()
    return rnd


def submit_request(actor: User, round_id: int, *, groep: str, pupils: int, adults: int,
                   wishes: list[tuple[int, list[int] | None]], now: datetime | None = None) -> RoundRequest:
    """A teacher's request: ranked wishes, each an offer (any date) or specific session(s)."""
    now = now or utcnow()
    rnd = db.session.get(RequestRound, round_id)
    if rnd is None or not permissions.same_region(actor, rnd):
        raise Refused(_("Deze aanvraagronde bestaat niet."), code="not_found")
    if not permissions.is_teacher(actor):
        raise NotAllowed(_("Alleen leerkrachten dienen aanvragen in."))
    if rnd.status != RoundStatus.OPEN or not rnd.opens_at <= now < rnd.deadline_at:
        raise Refused(_("Deze ronde is gesloten; boek rechtstreeks of kies een andere ronde."), code="round_closed")
    try:
        lo, hi = parse_groep(groep)
    except (ValueError, TypeError):
        raise InvalidInput(_("Kies een groep van 1 tot en met 8, of een combinatie zoals 7/8."), field="groep")
    if not isinstance(pupils, int) or not 1 <= pupils <= 40:
        raise InvalidInput(_("Het aantal leerlingen moet tussen 1 en 40 liggen."), field="pupils")
    if not wishes or len(wishes) > 5:
        raise InvalidInput(_("Geef 1 tot 5 wensen op, de belangrijkste eerst."), field="wishes")
    request = RoundRequest(round_id=rnd.id, school_id=actor.school_id, user_id=actor.id, groep_min=lo, groep_max=hi,
                           pupils=pupils, adults=adults, created_at=now)
    for rank, (offer_id, session_ids) in enumerate(wishes, start=1):
        offer = db.session.get(Offer, offer_id)
        if offer is None or offer.region_id != rnd.region_id or not offer.published:
            raise InvalidInput(_("Wens %(n)s: onbekend aanbod.", n=rank), field="wishes")
        if not offer.targets_groep(lo, hi):
            raise InvalidInput(_("Wens %(n)s is niet voor deze groep.", n=rank), field="wishes")
        if offer.is_series and not session_ids:
            raise InvalidInput(_("Wens %(n)s is een reeks: kies een datum per deel.", n=rank), field="wishes")
        for sid in session_ids or ():  # the sessions a wish names: sessions of that offer
            permissions.linkable(actor, Session, sid, field="wishes", check=lambda _u, s, o=offer: s.offer_id == o.id)
        request.wishes.append(RoundWish(rank=rank, offer_id=offer.id, session_ids=session_ids or None))
    db.session.add(request)
    db.session.flush()
    return request


def _alternatives(wish: RoundWish, now: datetime) -> tuple[tuple[int, ...], ...]:
    if wish.session_ids:
        return (tuple(wish.session_ids),)
    ids = db.session.scalars(select(Session.id).where(
        Session.offer_id == wish.offer_id, Session.starts_at > now, Session.status == SessionStatus.SCHEDULED)
        .order_by(Session.starts_at, Session.id)).all()
    return tuple((i,) for i in ids)


def _inputs(rnd: RequestRound, now: datetime):
    from app.catalogue.services import school_distances
    from app.labs.models import Venue

    requests = list(rnd.requests)
    reqs = [RequestIn(r.id, r.school_id, r.pupils, tuple(_alternatives(w, now) for w in r.wishes))
            for r in sorted(requests, key=lambda r: r.id)]
    session_ids = {sid for r in reqs for alts in r.wishes for chain in alts for sid in chain}
    sessions = {s.id: s for s in db.session.scalars(select(Session).where(Session.id.in_(session_ids)))}
    capacity = {sid: (s.capacity_pupils - s.booked_pupils, s.capacity_classes - s.booked_classes)
                for sid, s in sessions.items()}
    already = set(db.session.execute(select(Booking.school_id, Booking.session_id).where(
        Booking.session_id.in_(session_ids), Booking.status.in_(ACTIVE))).all()) if session_ids else set()
    start, end = _year_window(rnd.school_year)
    school_ids = {r.school_id for r in requests}
    reached = dict(db.session.execute(select(Booking.school_id, func.count(Booking.id)).join(
        Session, Booking.session_id == Session.id).where(
        Booking.school_id.in_(school_ids), Booking.status.in_(HOLDS_PLACE), Session.starts_at >= start,
        Session.starts_at < end).group_by(Booking.school_id)).all()) if school_ids else {}
    quota_rules = [r for r in rules_in_force(rnd.region_id, rnd.school_year)
                   if r.kind == RuleKind.MAX_PER_SCHOOL and r.scope.value == "year" and r.max_count is not None]
    venues = db.session.scalars(select(Venue.id).where(Venue.region_id == rnd.region_id)).all()
    schools = {}
    for school in db.session.scalars(select(School).where(School.id.in_(school_ids))):
        dist = [d for d in school_distances(school, set(venues), rnd.region.road_factor).values() if d is not None]
        quota = min((r.max_count for r in quota_rules), default=None)
        schools[school.id] = SchoolIn(reached_before=reached.get(school.id, 0), distance_km=min(dist) if dist else 0.0,
                                      cbs_weight=school.cbs_weight or 0.0,
                                      quota_left=None if quota is None else max(0, quota - reached.get(school.id, 0)))
    return reqs, capacity, schools, already


def preview_round(actor: User | None, round_id: int, *, now: datetime | None = None):
    """Run the allocation and store each request's outcome and explanation (not yet booked)."""
    now = now or utcnow()
    rnd = db.session.get(RequestRound, round_id)
    if rnd is None:
        raise Refused(_("Deze aanvraagronde bestaat niet."), code="not_found")
    if actor is not None and not (permissions.can_set_rules(actor, rnd.region) or
                                  (permissions.is_coordinator(actor) and permissions.same_region(actor, rnd))):
        raise NotAllowed(_("U mag deze ronde niet toewijzen."))
    if rnd.status == RoundStatus.COMMITTED:
        raise Refused(_("Deze ronde is al toegewezen."), code="round_committed")
    if not rnd.seed:
        rnd.seed = secrets.token_hex(8)
    reqs, capacity, schools, already = _inputs(rnd, now)
    result = allocate(reqs, capacity, schools, rnd.seed, w_distance=rnd.weight_distance, w_cbs=rnd.weight_cbs,
                      already=already)
    for req in rnd.requests:
        out = result.outcomes.get(req.id)
        req.outcome = out.status if out else "refused"
        req.granted_rank = out.rank if out else None
        req.priority = out.order if out else None
        req.explanation = (out.explanation if out else "")[:2000]
    rnd.status = RoundStatus.ALLOCATED
    rnd.allocated_at = now
    db.session.flush()
    return rnd, result


def commit_round(actor: User | None, round_id: int, *, now: datetime | None = None) -> RequestRound:
    """Book what the allocation granted (and waitlist the rest) and send the mails."""
    from app.booking.services import ClassDetails, create_booking, create_series_booking

    now = now or utcnow()
    rnd, result = preview_round(actor, round_id, now=now)
    for req in sorted(rnd.requests, key=lambda r: r.priority or 0):
        out = result.outcomes.get(req.id)
        if out is None or out.status == "refused":
            continue
        teacher = db.session.get(User, req.user_id) if req.user_id else None
        if teacher is None or teacher.role != Role.TEACHER:
            req.outcome, req.explanation = "refused", req.explanation + "; the requesting account no longer exists"
            continue
        details = ClassDetails(req.school_id, f"{req.groep_min}/{req.groep_max}" if req.groep_max != req.groep_min
                               else str(req.groep_min), req.pupils, req.adults, teacher.name, teacher.email)
        try:
            if out.status == "granted" and len(out.sessions) > 1:
                create_series_booking(teacher, req.wishes[out.rank - 1].offer_id, list(out.sessions), details,
                                      now=now, via_round=rnd.id)
            else:
                create_booking(teacher, out.sessions[0], details, waitlist=out.status == "waitlisted", now=now,
                               via_round=rnd.id)
        except (Refused, InvalidInput, RuleRefused) as exc:
            req.outcome, req.explanation = "refused", f"{req.explanation}; not booked: {exc.message}"
    rnd.status = RoundStatus.COMMITTED
    rnd.committed_at = now
    db.session.flush()
    return rnd


def allocate_due_rounds(now: datetime) -> int:
    """Job: commit every open round whose deadline has passed (once; safe to re-run)."""
    from app.jobs import claim_run

    done = 0
    for rnd in db.session.scalars(select(RequestRound).where(
            RequestRound.status.in_((RoundStatus.OPEN, RoundStatus.ALLOCATED)), RequestRound.deadline_at <= now)).all():
        if not claim_run("booking.allocate_round", f"round-{rnd.id}"):
            continue
        sessions = {sid for r in rnd.requests for w in r.wishes for sid in (w.session_ids or [])}
        lock_sessions(sessions)
        commit_round(None, rnd.id, now=now)
        db.session.commit()
        done += 1
    return done
