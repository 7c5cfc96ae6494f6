"""Request rounds: teachers state ranked wishes until the deadline; then a fair allocation."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import format_decimal, gettext as _
from sqlalchemy import func, select

from app.auth import permissions
from app.auth.models import Role, User
from app.booking.allocation import LimitIn, RequestIn, SchoolIn, WindowIn, allocate
from app.booking.errors import BookingError, InvalidInput, NotAllowed, Refused
from app.booking.fairness import (
    CODES,
    Candidate,
    _year_window,
    count_bookings,
    is_reached,
    reach_share,
    rule_applies,
    rules_in_force,
)
from app.booking.locking import lock_sessions
from app.booking.models import (
    ACTIVE,
    HOLDS_PLACE,
    Booking,
    RequestRound,
    RoundRequest,
    RoundStatus,
    RoundWish,
    RuleKind,
    RuleScope,
)
from app.db import utcnow
from app.extensions import db
from app.labels import parse_groep
from app.labs.models import Offer, PartLocation, Session, SessionStatus
from app.schools.models import School
from app.timeutil import local_to_utc, school_year_of, to_local


def create_round(
    actor: User,
    *,
    title: str,
    opens_at: datetime,
    deadline_at: datetime,
    school_year: int,
    period_start: date,
    period_end: date,
    description: str = "",
    weight_distance: float = 0.0,
    weight_cbs: float = 0.0,
) -> RequestRound:
    """A round offers the sessions between ``period_start`` and ``period_end`` (local dates, both included)."""
    if not (permissions.is_programme_leader(actor) or permissions.is_coordinator(actor) or permissions.is_admin(actor)):
        raise NotAllowed(_("Alleen programmaleiders en coördinatoren maken aanvraagrondes."))
    if deadline_at <= opens_at:
        raise InvalidInput(_("De sluitingsdatum moet na de openingsdatum liggen."), field="deadline_at")
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise InvalidInput(_("Vul de periode van de ronde in."), field="period_start")
    if period_start <= to_local(deadline_at).date():
        raise InvalidInput(_("De periode van de ronde begint na de sluitingsdatum."), field="period_start")
    if period_end < period_start:
        raise InvalidInput(_("Het einde van de periode ligt niet voor het begin."), field="period_end")
    if (period_end - period_start).days > 366:
        raise InvalidInput(_("Een ronde duurt hoogstens een jaar."), field="period_end")
    if not 0 <= weight_distance <= 5 or not 0 <= weight_cbs <= 5:
        raise InvalidInput(_("Gewichten liggen tussen 0 en 5."), field="weight_distance")
    rnd = RequestRound(
        region_id=actor.region_id,
        school_year=school_year,
        title=title.strip()[:200],
        description=description,
        opens_at=opens_at,
        deadline_at=deadline_at,
        period_start=period_start,
        period_end=period_end,
        weight_distance=weight_distance,
        weight_cbs=weight_cbs,
    )
    db.session.add(rnd)
    db.session.flush()
    return rnd


def submit_request(
    actor: User,
    round_id: int,
    *,
    groep: str,
    pupils: int,
    adults: int,
    wishes: list[tuple[int, list[int] | None]],
    now: datetime | None = None,
) -> RoundRequest:
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
        raise InvalidInput(
            _("Kies een groep van 1 tot en met 8, of een combinatie zoals 7/8."), field="groep"
        ) from None
    if not isinstance(pupils, int) or not 1 <= pupils <= 40:
        raise InvalidInput(_("Het aantal leerlingen moet tussen 1 en 40 liggen."), field="pupils")
    if not wishes or len(wishes) > 5:
        raise InvalidInput(_("Geef 1 tot 5 wensen op, de belangrijkste eerst."), field="wishes")
    request = RoundRequest(
        round_id=rnd.id,
        school_id=actor.school_id,
        user_id=actor.id,
        groep_min=lo,
        groep_max=hi,
        pupils=pupils,
        adults=adults,
        created_at=now,
    )
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
        if session_ids and not all(_in_period(rnd, db.session.get(Session, sid)) for sid in session_ids):
            raise InvalidInput(_("Wens %(n)s: kies data binnen de periode van de ronde.", n=rank), field="wishes")
        request.wishes.append(RoundWish(rank=rank, offer_id=offer.id, session_ids=session_ids or None))
    db.session.add(request)
    db.session.flush()
    return request


def _in_period(rnd: RequestRound, session: Session | None) -> bool:
    if session is None:
        return False
    if rnd.period_start is None or rnd.period_end is None:  # a round made before periods: its school year
        start, end = _year_window(rnd.school_year)
        return start <= session.starts_at < end
    return rnd.period_start <= to_local(session.starts_at).date() <= rnd.period_end


def offered_sessions(rnd: RequestRound, offer_ids: set[int], now: datetime) -> dict[int, Session]:
    """The sessions a round may give out at ``now`` (the moment of allocation).

    Within the round's period; scheduled; the offer's cancellation deadline still ahead (a
    class can still say no); and not on a day whose bus plan is ordered: neither inside the
    bus-order period (TRANSPORT_FREEZE_DAYS) nor on a day and venue with a frozen plan.
    """
    from app.transport.models import BusPlan, PlanStatus

    if not offer_ids:
        return {}
    stmt = select(Session).where(
        Session.offer_id.in_(offer_ids), Session.status == SessionStatus.SCHEDULED, Session.starts_at > now
    )
    if rnd.period_start is not None and rnd.period_end is not None:
        stmt = stmt.where(
            Session.starts_at >= local_to_utc(rnd.period_start, datetime.min.time()),
            Session.starts_at < local_to_utc(rnd.period_end + timedelta(days=1), datetime.min.time()),
        )
    sessions = [s for s in db.session.scalars(stmt.order_by(Session.starts_at, Session.id)) if _in_period(rnd, s)]
    freeze_until = now + timedelta(days=int(current_app.config.get("TRANSPORT_FREEZE_DAYS", 7)))
    venues = {s.venue_id for s in sessions if s.venue_id is not None}
    frozen_days = (
        {
            (venue_id, to_local(starts_at).date())
            for venue_id, starts_at in db.session.execute(
                select(Session.venue_id, Session.starts_at)
                .join(BusPlan, BusPlan.session_id == Session.id)
                .where(BusPlan.status == PlanStatus.FROZEN, Session.venue_id.in_(venues), Session.starts_at > now)
            )
        }
        if venues
        else set()
    )
    out = {}
    for s in sessions:
        if s.starts_at - timedelta(days=s.offer.cancel_deadline_days) <= now:
            continue
        if s.location == PartLocation.VENUE and (
            s.starts_at <= freeze_until or (s.venue_id, to_local(s.starts_at).date()) in frozen_days
        ):
            continue
        out[s.id] = s
    return out


def _alternatives(wish: RoundWish, offered: dict[int, Session]) -> tuple[tuple[int, ...], ...]:
    if wish.session_ids:
        chain = tuple(wish.session_ids)
        return (chain,) if all(sid in offered for sid in chain) else ()
    return tuple((s.id,) for s in offered.values() if s.offer_id == wish.offer_id)


def _limits(
    rnd: RequestRound, reqs: list[RequestIn], offered: dict[int, Session], now: datetime
) -> tuple[list[LimitIn], list[WindowIn]]:
    """The region's rules as the pure allocation sees them, counted as the booking gate counts them."""
    limits, windows = [], []
    years = {school_year_of(s.starts_at) for s in offered.values()}
    groep_of = {r.id: r.groep for r in reqs}
    counted: dict = {}
    for year in sorted(years):
        for rule in rules_in_force(rnd.region_id, year):
            applies = {
                sid: s
                for sid, s in offered.items()
                if school_year_of(s.starts_at) == year and rule_applies(rule, s.offer, s.starts_at)
            }
            if rule.kind == RuleKind.PRIORITY_WINDOW:
                if rule.window_start and now < rule.window_start or rule.window_end and now >= rule.window_end:
                    continue
                schools = {r.school_id for r in reqs}
                if rule.max_reach_share is not None:
                    blocked = {sc for sc in schools if reach_share(sc, year) >= rule.max_reach_share}
                else:
                    blocked = {sc for sc in schools if is_reached(sc, rnd.region_id, year)}
                windows.append(
                    WindowIn(
                        rule.id,
                        to_local(rule.window_end).date().isoformat() if rule.window_end else "",
                        frozenset(applies),
                        frozenset(blocked),
                        rule.max_reach_share is not None,
                    )
                )
                continue
            if rule.max_count is None:
                continue
            per_class = rule.kind == RuleKind.MAX_PER_CLASS
            each_offer = rule.scope == RuleScope.OFFER and not rule.scope_value
            groups = {sid: (s.offer_id if each_offer else None) for sid, s in applies.items()}
            used = {}
            for r in reqs:
                firsts = {chain[0] for alts in r.wishes for chain in alts if chain[0] in groups}
                for sid in sorted(firsts):
                    g = groups[sid]
                    if (g, r.id) in used:
                        continue
                    s = applies[sid]
                    key = (rule.id, g, r.school_id, groep_of[r.id] if per_class else None)
                    if key not in counted:
                        counted[key] = count_bookings(
                            rule,
                            Candidate(r.school_id, rnd.region_id, r.groep[0], r.groep[1], s.offer, s.starts_at),
                            per_class,
                        )
                    used[(g, r.id)] = counted[key]
            code = "quota_class" if per_class else CODES[rule.scope]
            limits.append(LimitIn(rule.id, code, rule.max_count, per_class, groups, used))
    return limits, windows


def _inputs(rnd: RequestRound, now: datetime):
    from app.catalogue.services import school_distances
    from app.labs.models import Venue

    requests = list(rnd.requests)
    offered = offered_sessions(rnd, {w.offer_id for r in requests for w in r.wishes}, now)
    reqs = [
        RequestIn(
            r.id, r.school_id, r.pupils, tuple(_alternatives(w, offered) for w in r.wishes), (r.groep_min, r.groep_max)
        )
        for r in sorted(requests, key=lambda r: r.id)
    ]
    session_ids = {sid for r in reqs for alts in r.wishes for chain in alts for sid in chain}
    capacity = {
        sid: (s.capacity_pupils - s.booked_pupils, s.capacity_classes - s.booked_classes)
        for sid, s in offered.items()
        if sid in session_ids
    }
    already = (
        set(
            db.session.execute(
                select(Booking.school_id, Booking.session_id).where(
                    Booking.session_id.in_(session_ids), Booking.status.in_(ACTIVE)
                )
            ).all()
        )
        if session_ids
        else set()
    )
    start, end = _year_window(rnd.school_year)
    school_ids = {r.school_id for r in requests}
    reached = (
        dict(
            db.session.execute(
                select(Booking.school_id, func.count(Booking.id))
                .join(Session, Booking.session_id == Session.id)
                .where(
                    Booking.school_id.in_(school_ids),
                    Booking.status.in_(HOLDS_PLACE),
                    Session.starts_at >= start,
                    Session.starts_at < end,
                )
                .group_by(Booking.school_id)
            ).all()
        )
        if school_ids
        else {}
    )
    limits, windows = _limits(rnd, reqs, offered, now)
    venues = db.session.scalars(select(Venue.id).where(Venue.region_id == rnd.region_id)).all()
    schools = {}
    for school in db.session.scalars(select(School).where(School.id.in_(school_ids))):
        dist = [d for d in school_distances(school, set(venues), rnd.region.road_factor).values() if d is not None]
        schools[school.id] = SchoolIn(
            reached_before=reached.get(school.id, 0),
            distance_km=min(dist) if dist else 0.0,
            cbs_weight=school.cbs_weight or 0.0,
        )
    return reqs, capacity, schools, already, limits, windows


def preview_round(actor: User | None, round_id: int, *, now: datetime | None = None):
    """Run the allocation and store each request's outcome and explanation (not yet booked)."""
    now = now or utcnow()
    rnd = db.session.get(RequestRound, round_id)
    if rnd is None:
        raise Refused(_("Deze aanvraagronde bestaat niet."), code="not_found")
    if actor is not None and not (
        permissions.can_set_rules(actor, rnd.region)
        or (permissions.is_coordinator(actor) and permissions.same_region(actor, rnd))
    ):
        raise NotAllowed(_("U mag deze ronde niet toewijzen."))
    if rnd.status == RoundStatus.COMMITTED:
        raise Refused(_("Deze ronde is al toegewezen."), code="round_committed")
    if not rnd.seed:
        rnd.seed = secrets.token_hex(8)
    reqs, capacity, schools, already, limits, windows = _inputs(rnd, now)
    result = allocate(
        reqs,
        capacity,
        schools,
        rnd.seed,
        w_distance=rnd.weight_distance,
        w_cbs=rnd.weight_cbs,
        already=already,
        limits=limits,
        windows=windows,
    )
    for req in rnd.requests:
        out = result.outcomes.get(req.id)
        req.outcome = out.status if out else "refused"
        req.granted_rank = out.rank if out else None
        req.priority = out.order if out and out.order else None
        req.outcome_code = out.code if out else "no_session"
        req.outcome_params = dict(out.params) if out else {}
        req.explanation = ""
    rnd.status = RoundStatus.ALLOCATED
    rnd.allocated_at = now
    db.session.flush()
    return rnd, result


def _refused_at_apply(req: RoundRequest, exc: BookingError) -> None:
    """The gate refused a grant when it was booked: keep the rule's code, not a crash."""
    params = {"code": exc.code, "was": req.outcome_code or ""}
    for key in ("rule_id", "release_at"):
        if getattr(exc, key, None) is not None:
            params[key] = getattr(exc, key)
    if req.outcome_params and "lottery" in req.outcome_params:
        params["lottery"] = req.outcome_params["lottery"]
    req.outcome, req.outcome_code, req.outcome_params = "refused", "not_booked", params


def commit_round(actor: User | None, round_id: int, *, now: datetime | None = None) -> RequestRound:
    """Book what the allocation granted (and waitlist the rest) through the booking gate, and send the mails.

    Every grant goes through ``create_booking`` / ``create_series_booking`` with the region's
    rules checked, exactly as a direct booking; what the gate refuses becomes the request's
    outcome with the rule's code.
    """
    from app.booking.services import ClassDetails, create_booking, create_series_booking

    now = now or utcnow()
    # the round row is locked first, so a coordinator's click and the job cannot both book it
    db.session.scalar(
        select(RequestRound)
        .where(RequestRound.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    rnd, result = preview_round(actor, round_id, now=now)
    for req in sorted(rnd.requests, key=lambda r: (r.priority is None, r.priority or 0, r.id)):
        out = result.outcomes.get(req.id)
        if out is None or out.status == "refused":
            continue
        teacher = db.session.get(User, req.user_id) if req.user_id else None
        if teacher is None or teacher.role != Role.TEACHER:
            req.outcome, req.outcome_code = "refused", "account_gone"
            continue
        details = ClassDetails(
            req.school_id,
            f"{req.groep_min}/{req.groep_max}" if req.groep_max != req.groep_min else str(req.groep_min),
            req.pupils,
            req.adults,
            teacher.name,
            teacher.email,
        )
        try:
            if out.status == "granted" and len(out.sessions) > 1:
                create_series_booking(
                    teacher, req.wishes[out.rank - 1].offer_id, list(out.sessions), details, now=now, via_round=rnd.id
                )
            else:
                create_booking(
                    teacher, out.sessions[0], details, waitlist=out.status == "waitlisted", now=now, via_round=rnd.id
                )
        except BookingError as exc:
            _refused_at_apply(req, exc)
    rnd.status = RoundStatus.COMMITTED
    rnd.committed_at = now
    db.session.flush()
    return rnd


def allocate_due_rounds(now: datetime) -> int:
    """Job: commit every open round whose deadline has passed (once; safe to re-run)."""
    from app.jobs import claim_run

    done = 0
    for rnd in db.session.scalars(
        select(RequestRound).where(
            RequestRound.status.in_((RoundStatus.OPEN, RoundStatus.ALLOCATED)), RequestRound.deadline_at <= now
        )
    ).all():
        if not claim_run("booking.allocate_round", f"round-{rnd.id}"):
            continue
        sessions = {sid for r in rnd.requests for w in r.wishes for sid in (w.session_ids or [])}
        lock_sessions(sessions)
        commit_round(None, rnd.id, now=now)
        db.session.commit()
        done += 1
    return done


def status_label(status: RoundStatus) -> str:
    return {
        RoundStatus.OPEN: _("open"),
        RoundStatus.ALLOCATED: _("voorbeeld berekend"),
        RoundStatus.COMMITTED: _("toegewezen"),
        RoundStatus.CANCELLED: _("vervallen"),
    }.get(status, "")


def _lottery(params: dict) -> str:
    value = params.get("lottery")
    return format_decimal(value, format="0.0000") if isinstance(value, (int, float)) else ""


def _rule_reason(code: str, params: dict) -> str:
    """Why a rule (or the gate) refused, in the reader's language."""
    n, most = params.get("n"), params.get("max")
    if code == "quota_class":
        return (
            _("de klas heeft al %(n)s keer geboekt binnen deze regel (hoogstens %(max)s)", n=n, max=most)
            if n is not None
            else _("de klas heeft het maximum aantal boekingen binnen deze regel bereikt")
        )
    if code.startswith("quota_school"):
        return (
            _("de school heeft al %(n)s boeking(en) binnen deze regel (hoogstens %(max)s)", n=n, max=most)
            if n is not None
            else _("de school heeft het maximum aantal boekingen binnen deze regel bereikt")
        )
    if code == "priority_window":
        until = params.get("until") or (params.get("release_at") or "")[:10]
        when = date.fromisoformat(until).strftime("%d-%m-%Y") if until else ""
        return _("tot %(date)s gaan scholen voor die dit schooljaar nog niet bereikt zijn", date=when)
    if code == "full":
        return _("de les was inmiddels vol")
    if code in ("already", "already_booked"):
        return _("de school heeft deze les al geboekt of staat er op de wachtlijst")
    if code in ("session_past", "session_cancelled", "window_closed", "window_not_open", "offer_unpublished"):
        return _("de les is niet meer te boeken")
    return _("de regels voor boeken lieten het niet toe")


def describe_outcome(req: RoundRequest) -> str:
    """A request's outcome with its reason (rank, rule, lottery number), in the reader's language."""
    code, params = req.outcome_code, req.outcome_params or {}
    if not code:
        return "" if not req.outcome else _("uitkomst zonder toelichting")
    lottery = _lottery(params)
    if code == "granted":
        text = _("toegekend (wens %(rank)s)", rank=params.get("rank", req.granted_rank))
        if req.outcome == "refused":
            return text
        return (
            text
            + ": "
            + _(
                "nummer %(order)s in de volgorde; de school had dit schooljaar al %(before)s plaats(en); "
                "lotnummer %(lottery)s",
                order=params.get("order"),
                before=params.get("before", 0),
                lottery=lottery,
            )
        )
    if code == "waitlisted_no_room":
        text = _("op de wachtlijst: geen wens had plaats")
    elif code == "no_room":
        text = _("niet toegekend: geen wens had plaats")
    elif code == "no_session":
        text = _("niet toegekend: geen van de wensen heeft een datum in de periode van de ronde die nog te boeken is")
    elif code == "account_gone":
        return _("niet geboekt: het account van de aanvrager bestaat niet meer")
    elif code == "not_booked":
        text = _("niet geboekt bij het vastleggen: %(reason)s", reason=_rule_reason(params.get("code", ""), params))
    elif code == "priority_window":
        text = (
            _("op de wachtlijst: %(reason)s", reason=_rule_reason(code, params))
            if req.outcome == "waitlisted"
            else _("niet toegekend: %(reason)s", reason=_rule_reason(code, params))
        )
    else:
        text = _(
            "niet toegekend (wens %(rank)s): %(reason)s", rank=params.get("rank", 1), reason=_rule_reason(code, params)
        )
    return text + ("; " + _("lotnummer %(lottery)s", lottery=lottery) if lottery else "")
