"""The booking service: every booking state change goes through these functions.

Each function takes the acting user and plain values, locks what is scarce, re-checks
after the lock, writes, records the change in the audit trail and queues the mails
(sent after the commit). They flush but never commit: the caller's unit of work does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.auth import permissions
from app.auth.models import Role, User
from app.booking import notify
from app.booking.admission import CHANGE, MOVE, PROMOTE, Admit, ClassRef, Refuse, Wait, decide
from app.booking.errors import BookingNotFound, InvalidInput, NotAllowed, Refused, SessionFull
from app.booking.locking import lock_school, lock_schools, lock_sessions
from app.booking.models import ACTIVE, Booking, BookingEvent, BookingStatus, SeriesBooking
from app.booking.reached import reached_schools
from app.db import utcnow
from app.extensions import db
from app.labels import parse_groep
from app.labs.capacity import fits
from app.labs.models import Offer, Session, SessionStatus
from app.outbox.services import batched as outbox_batch
from app.timeutil import school_year_of, to_local
from app.scoping import region_scope
from app.transport.effects import session_changed

MAX_PUPILS = 40
MAX_ADULTS = 10


@dataclass(frozen=True)
class ClassDetails:
    """The class that books: counts only, never pupil names."""

    school_id: int
    groep: str
    pupils: int
    adults: int
    contact_name: str = ""
    contact_email: str = ""
    remarks: str = ""
    girls: int | None = None
    boys: int | None = None
    # the class's name within the school ("7A"); empty: named after its groep ("7", "7/8")
    class_name: str = ""


# ------------------------------------------------------------------ helpers


def _validate(details: ClassDetails) -> tuple[int, int]:
    try:
        groep_min, groep_max = parse_groep(details.groep)
    except (ValueError, TypeError):
        raise InvalidInput(
            _("Kies een groep van 1 tot en met 8, of een combinatie zoals 7/8."), field="groep"
        ) from None
    if not isinstance(details.pupils, int) or not 1 <= details.pupils <= MAX_PUPILS:
        raise InvalidInput(_("Het aantal leerlingen moet tussen 1 en %(n)s liggen.", n=MAX_PUPILS), field="pupils")
    if not isinstance(details.adults, int) or not 0 <= details.adults <= MAX_ADULTS:
        raise InvalidInput(_("Het aantal begeleiders moet tussen 0 en %(n)s liggen.", n=MAX_ADULTS), field="adults")
    for name in ("girls", "boys"):
        value = getattr(details, name)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= details.pupils):
            raise InvalidInput(_("Dit aantal kan niet groter zijn dan het aantal leerlingen."), field=name)
    if details.girls is not None and details.boys is not None and details.girls + details.boys > details.pupils:
        raise InvalidInput(_("Meisjes en jongens samen zijn meer dan het aantal leerlingen."), field="girls")
    if len(details.remarks or "") > 2000:
        raise InvalidInput(_("De opmerkingen zijn te lang (maximaal 2000 tekens)."), field="remarks")
    return groep_min, groep_max


def _class_name(details: ClassDetails, groep: tuple[int, int]) -> str:
    name = " ".join(str(details.class_name or "").split())
    if not name:
        lo, hi = groep
        return str(lo) if lo == hi else "/".join(str(g) for g in range(lo, hi + 1))
    if len(name) > 40 or not name.isprintable():
        raise InvalidInput(_("Geef de klas een korte naam (hoogstens 40 tekens), bijvoorbeeld 7A."), field="class_name")
    return name


def _check_actor_for_school(actor: User, school_id: int) -> None:
    if actor.role == Role.TEACHER:
        if actor.school_id != school_id:
            raise NotAllowed(_("U kunt alleen boeken voor uw eigen school."))
    elif actor.role not in (Role.COORDINATOR, Role.ADMIN):
        raise NotAllowed(_("Alleen leerkrachten en coördinatoren kunnen boeken."))
    else:  # a coordinator books for a school the form names: one of their region
        from app.schools.models import School

        permissions.linkable(actor, School, school_id, field="school")


def _event(booking: Booking, actor: User | None, action: str, from_status, to_status, reason: str = "", **data) -> None:
    event = BookingEvent(
        actor_id=actor.id if actor is not None else None,
        at=utcnow(),
        action=action,
        from_status=from_status.value if from_status is not None else None,
        to_status=to_status.value if to_status is not None else None,
        reason=(reason or "")[:500],
        data=data or None,
    )
    if booking.id is not None and "events" not in booking.__dict__ and booking not in db.session.new:
        # a stored booking whose audit trail is not loaded: one INSERT, without reading the trail
        # (it is read from the database when someone asks for it) and without the ORM's flush
        db.session.connection().execute(
            _STATEMENTS["event"],
            {
                "booking_id": booking.id,
                "actor_id": event.actor_id,
                "at": event.at,
                "action": action,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "reason": event.reason,
                "data": event.data,
            },
        )
    else:
        booking.events.append(event)


# the hot path's plain statements, built once per process
_STATEMENTS = {
    "event": BookingEvent.__table__.insert(),
    "counters": update(Session.__table__)
    .where(Session.__table__.c.id == bindparam("session_id"))
    .values(booked_pupils=bindparam("pupils"), booked_classes=bindparam("classes"), updated_at=bindparam("at")),
}


def _set_counters(session: Session, pupils: int, classes: int) -> None:
    """Write the session's counters: the values computed from the locked row (absolute, as the
    ORM would write them), as one plain UPDATE, so the session is not left for the flush."""
    if session.id is None or session in db.session.new:
        session.booked_pupils, session.booked_classes = pupils, classes
        return
    now = utcnow()
    db.session.connection().execute(
        _STATEMENTS["counters"], {"session_id": session.id, "pupils": pupils, "classes": classes, "at": now}
    )
    set_committed_value(session, "booked_pupils", pupils)
    set_committed_value(session, "booked_classes", classes)
    set_committed_value(session, "updated_at", now)


def _hold(session: Session, booking: Booking) -> None:
    _set_counters(session, session.booked_pupils + booking.pupils, session.booked_classes + 1)


def _release(session: Session, booking: Booking) -> None:
    _set_counters(session, session.booked_pupils - booking.pupils, session.booked_classes - 1)


def _set_status(booking: Booking, to: BookingStatus, actor, action: str, reason: str = "", **data) -> None:
    before = booking.status
    booking.status = to
    booking.sequence += 1
    _event(booking, actor, action, before, to, reason, **data)


def _race_point() -> None:
    """Test seam for the control test: lets threads meet between check and write."""
    barrier = current_app.config.get("BOOKING_TEST_BARRIER")
    if barrier is not None:
        barrier.wait(timeout=30)


def _new_booking(session, details, groep, status, actor, now, series=None, position=None, *, class_name) -> Booking:
    booking = Booking(
        session_id=session.id,
        school_id=details.school_id,
        status=status,
        groep_min=groep[0],
        groep_max=groep[1],
        pupils=details.pupils,
        adults=details.adults,
        contact_user_id=actor.id if actor.role == Role.TEACHER else None,
        contact_name=(details.contact_name or actor.name or "")[:200],
        contact_email=(details.contact_email or (actor.email if actor.role == Role.TEACHER else ""))[:254],
        remarks=details.remarks or "",
        girls=details.girls,
        boys=details.boys,
        series=series,
        part_position=position,
        waitlisted_at=now if status == BookingStatus.WAITLISTED else None,
        created_at=now,
    )
    booking.session = session
    booking.class_name = class_name
    _event(booking, actor, "create", None, status)
    db.session.add(booking)
    return booking


def _refusal(decision) -> Exception:
    return decision.error()


def _admitted_status(
    actor: User, offer: Offer, override_reason: str = "", via_round: int | None = None
) -> BookingStatus:
    """An admitted class is confirmed, or — on an offer with approval required, when a teacher books —
    requested ("aangevraagd"): it holds its place until the coordinator approves or declines. A
    coordinator's own booking, an override and a round's allocation are the coordinator's decision."""
    if (
        offer.approval_required
        and actor is not None
        and actor.role == Role.TEACHER
        and not override_reason
        and via_round is None
    ):
        return BookingStatus.REQUESTED
    return BookingStatus.CONFIRMED


# ------------------------------------------------------------------ booking


def create_booking(
    actor: User,
    session_id: int,
    details: ClassDetails,
    *,
    waitlist: bool = False,
    now: datetime | None = None,
    override_reason: str = "",
    via_round: int | None = None,
) -> Booking:
    """Book a class into a session as the admission decision says: confirmed when admitted; on the
    waiting list (if asked) when it must wait (no room, or a rule holds it back); else refused."""
    now = now or utcnow()
    groep = _validate(details)
    class_name = _class_name(details, groep)
    _check_actor_for_school(actor, details.school_id)
    school = lock_school(details.school_id)
    if school is None:
        raise InvalidInput(_("Onbekende school."), field="school")
    session = lock_sessions([session_id]).get(session_id)
    if session is None or not permissions.same_region(actor, session):
        raise BookingNotFound(_("Deze les bestaat niet."))
    if school.region_id != session.offer.region_id:
        raise NotAllowed(_("Deze school hoort niet bij de regio van dit aanbod."))
    offer = session.offer
    if offer.parts and len(offer.parts) > 1:
        raise Refused(_("Dit is een reeks: boek alle delen tegelijk."), code="series_only")
    override_reason = (override_reason or "").strip()
    if override_reason and not permissions.can_manage_session(actor, session):
        raise NotAllowed(_("Alleen de coördinator van deze les kan een uitzondering maken."))
    klass = ClassRef(school.id, class_name, groep[0], groep[1], details.pupils, details.adults)
    decision = decide(school, klass, [session], now, override=override_reason)
    _race_point()
    if isinstance(decision, Admit):
        status = _admitted_status(actor, offer, override_reason, via_round)
        booking = _new_booking(session, details, groep, status, actor, now, class_name=class_name)
        _hold(session, booking)
    elif isinstance(decision, Wait) and waitlist:
        booking = _new_booking(session, details, groep, BookingStatus.WAITLISTED, actor, now, class_name=class_name)
        booking.events[-1].data = {"waits_for": decision.rule, "rule_id": decision.rule_id}
    else:
        raise _refusal(decision)
    if override_reason:
        booking.override_reason = override_reason[:500]
        _event(booking, actor, "override", None, None, override_reason)
    if via_round is not None:
        _event(booking, actor, "allocated", None, None, f"round {via_round}", round_id=via_round)
    db.session.flush()
    with outbox_batch():  # the re-plan and the mail: one INSERT
        if booking.status == BookingStatus.CONFIRMED:
            session_changed(session.id)
            notify.booking_confirmed(booking)
        elif booking.status == BookingStatus.REQUESTED:
            notify.booking_requested(booking)
        else:
            notify.booking_waitlisted(booking)
    return booking


def create_series_booking(
    actor: User,
    offer_id: int,
    session_ids: list[int],
    details: ClassDetails,
    *,
    now: datetime | None = None,
    via_round: int | None = None,
) -> SeriesBooking:
    """Book every part of a series at once: all parts confirmed, or nothing."""
    now = now or utcnow()
    groep = _validate(details)
    class_name = _class_name(details, groep)
    _check_actor_for_school(actor, details.school_id)
    offer = db.session.get(Offer, offer_id)
    if offer is None or not permissions.same_region(actor, offer):
        raise BookingNotFound(_("Dit aanbod bestaat niet."))
    parts = list(offer.parts)
    if len(parts) < 2:
        raise Refused(_("Dit aanbod is geen reeks."), code="not_a_series")
    if not isinstance(session_ids, list) or len(session_ids) != len(parts) or len(set(session_ids)) != len(parts):
        raise Refused(
            _("Kies voor elk van de %(n)s delen één datum.", n=len(parts)),
            code="series_incomplete",
            field="session_ids",
        )
    school = lock_school(details.school_id)
    if school is None or school.region_id != offer.region_id:
        raise InvalidInput(_("Onbekende school."), field="school")
    sessions = lock_sessions(session_ids)
    chain = []
    for part, sid in zip(parts, session_ids, strict=False):
        s = sessions.get(sid)
        if s is None or s.offer_id != offer.id or s.part_id != part.id:
            raise Refused(
                _("De gekozen datum voor deel %(n)s hoort niet bij dit deel.", n=part.position),
                code="series_order",
                field="session_ids",
            )
        chain.append(s)
    for prev, (part, s) in zip(chain, list(zip(parts, chain, strict=False))[1:], strict=False):
        gap = (to_local(s.starts_at).date() - to_local(prev.starts_at).date()).days
        if gap < 0:  # picked in reverse order: say so, never "(nu -5)"
            raise Refused(
                _(
                    "Deel %(b)s ligt vóór deel %(a)s. Kies voor deel %(b)s een datum %(lo)s tot %(hi)s dagen "
                    "na deel %(a)s.",
                    a=part.position - 1,
                    b=part.position,
                    lo=part.min_days_after_previous,
                    hi=part.max_days_after_previous,
                ),
                code="series_gap",
                field="session_ids",
            )
        if gap < part.min_days_after_previous or gap > part.max_days_after_previous:
            raise Refused(
                _(
                    "Tussen deel %(a)s en deel %(b)s moeten %(lo)s tot %(hi)s dagen zitten (nu %(gap)s).",
                    a=part.position - 1,
                    b=part.position,
                    lo=part.min_days_after_previous,
                    hi=part.max_days_after_previous,
                    gap=gap,
                ),
                code="series_gap",
                field="session_ids",
            )
    klass = ClassRef(school.id, class_name, groep[0], groep[1], details.pupils, details.adults)
    decision = decide(school, klass, chain, now)
    _race_point()
    if not isinstance(decision, Admit):
        raise _refusal(decision)  # a series never waits: all parts or nothing
    status = _admitted_status(actor, offer, "", via_round)
    series = SeriesBooking(offer_id=offer.id, school_id=details.school_id, status=status, created_at=now)
    db.session.add(series)
    for part, s in zip(parts, chain, strict=True):
        booking = _new_booking(
            s, details, groep, status, actor, now, series=series, position=part.position, class_name=class_name
        )
        _hold(s, booking)
        if via_round is not None:
            _event(booking, actor, "allocated", None, None, f"round {via_round}", round_id=via_round)
    db.session.flush()
    if status == BookingStatus.REQUESTED:
        notify.booking_requested(series.bookings[0], list(series.bookings))
        return series
    for s in chain:
        session_changed(s.id)
    notify.series_confirmed(series)
    return series


# ------------------------------------------------------------------ cancelling and the waiting list

# statuses a cancel ends (a confirmed booking, a waiting entry, an offered place, a request)
CANCELLABLE = (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED, BookingStatus.OFFERED, BookingStatus.REQUESTED)


def cancel_deadline(booking: Booking) -> datetime:
    return booking.session.starts_at - timedelta(days=booking.session.offer.cancel_deadline_days)


# the school's own people: they cancel the school's bookings within the deadline, without a reason
SCHOOL_ROLES = (Role.TEACHER, Role.SCHOOL_COORDINATOR)


def can_teacher_cancel(booking: Booking, now: datetime) -> bool:
    if booking.status in (BookingStatus.WAITLISTED, BookingStatus.OFFERED, BookingStatus.REQUESTED):
        return True  # leaving the waiting list, declining an offered place or withdrawing a request is always possible
    bookings = booking.series.bookings if booking.series is not None else [booking]
    upcoming = [b for b in bookings if b.status in ACTIVE and b.session.starts_at > now]
    return bool(upcoming) and all(cancel_deadline(b) > now for b in upcoming)


def _load_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise BookingNotFound(_("Deze boeking bestaat niet."))
    return booking


def _lock_for_promotion(session_ids, school_ids=()) -> dict[int, Session]:
    """Lock, in the one lock order (schools, then sessions), the schools waiting for these
    sessions and the sessions themselves: promotion asks the admission decision under the
    same locks as a direct booking."""
    waiting = db.session.scalars(_statement("waiting_schools"), {"session_ids": list(session_ids)}).all()
    lock_schools(set(waiting) | set(school_ids))
    return lock_sessions(session_ids)


def cancel_booking(actor: User, booking_id: int, reason: str = "", *, now: datetime | None = None) -> list[Booking]:
    """Cancel a booking (all parts of a series); freed places go to the waiting list."""
    now = now or utcnow()
    booking = _load_booking(booking_id)
    if not permissions.can_cancel_booking(actor, booking):
        raise NotAllowed(_("U mag deze boeking niet annuleren."))
    targets = list(booking.series.bookings) if booking.series is not None else [booking]
    sessions = _lock_for_promotion([b.session_id for b in targets])
    for b in targets:
        db.session.refresh(b)
    active = [
        b for b in targets if b.status in CANCELLABLE and (b.session.starts_at > now or actor.role not in SCHOOL_ROLES)
    ]
    if not active:
        raise Refused(_("Deze boeking is al geannuleerd of voorbij."), code="not_cancellable")
    if actor.role in SCHOOL_ROLES:  # the school's own people keep to the cancellation deadline
        if not can_teacher_cancel(booking, now):
            raise Refused(
                _("De annuleringstermijn is verstreken. Neem contact op met de coördinator van het techlab."),
                code="cancel_deadline_passed",
            )
    elif not (reason or "").strip():
        raise InvalidInput(_("Geef een reden voor de annulering."), field="reason")
    freed = []
    for b in active:
        held = b.holds_place
        action = {BookingStatus.OFFERED: "decline_offer", BookingStatus.REQUESTED: "withdraw_request"}.get(
            b.status, "cancel"
        )
        _set_status(b, BookingStatus.CANCELLED, actor, action, reason)
        b.cancelled_at, b.cancel_reason, b.offer_expires_at = now, (reason or "")[:500], None
        if held:
            _release(sessions[b.session_id], b)
            freed.append(sessions[b.session_id])
    if booking.series is not None:
        booking.series.status = BookingStatus.CANCELLED
    db.session.flush()
    with outbox_batch():  # the re-plans and the mail: one INSERT
        for s in freed:
            session_changed(s.id)
        notify.booking_cancelled(active[0] if booking.series is None else booking)
    for s in freed:
        promote_waitlist(s, now=now)
    if freed:
        _recheck_waiting_of({booking.school_id}, now)
    return active


def _recheck_waiting_of(school_ids, now: datetime) -> int:
    """A school that gave up a place may no longer be reached: its classes waiting elsewhere
    (held back by a priority window) may be admitted now."""
    session_ids = db.session.scalars(
        _statement("waiting_elsewhere"), {"school_ids": list(school_ids), "now": now}
    ).all()
    return promote_sessions(session_ids, now)


def leave_waitlist(actor: User, booking_id: int, *, now: datetime | None = None) -> Booking:
    booking = _load_booking(booking_id)
    if not permissions.can_cancel_booking(actor, booking):
        raise NotAllowed(_("U mag deze boeking niet wijzigen."))
    lock_sessions([booking.session_id])
    db.session.refresh(booking)
    if booking.status != BookingStatus.WAITLISTED:
        raise Refused(_("Deze klas staat niet (meer) op de wachtlijst."), code="not_waitlisted")
    _set_status(booking, BookingStatus.CANCELLED, actor, "leave_waitlist")
    booking.cancelled_at = now or utcnow()
    db.session.flush()
    return booking


@functools.cache
def _statement(name: str):
    """The waiting list's statements, built once per process on first use."""
    if name == "waiting":
        return select(Booking).where(
            Booking.session_id == bindparam("session_id"), Booking.status == BookingStatus.WAITLISTED
        )
    if name == "waiting_schools":
        return (
            select(Booking.school_id)
            .where(
                Booking.session_id.in_(bindparam("session_ids", expanding=True)),
                Booking.status == BookingStatus.WAITLISTED,
            )
            .distinct()
        )
    return (
        select(Booking.session_id)
        .join(Session, Booking.session_id == Session.id)
        .where(  # waiting_elsewhere
            Booking.school_id.in_(bindparam("school_ids", expanding=True)),
            Booking.status == BookingStatus.WAITLISTED,
            Session.starts_at > bindparam("now"),
        )
        .distinct()
    )


def waitlist_order(session: Session) -> list[Booking]:
    """Waiting classes in promotion order: schools not yet reached this year first, then first come."""
    waiting = list(db.session.scalars(_statement("waiting"), {"session_id": session.id}))
    reached = reached_schools(
        {b.school_id for b in waiting}, school_year_of(session.starts_at), exclude_session_id=session.id
    )
    return sorted(waiting, key=lambda b: (b.school_id in reached, b.waitlisted_at or b.created_at, b.id))


def promote_waitlist(session: Session, *, now: datetime | None = None, actor: User | None = None) -> list[Booking]:
    """Give free places to waiting classes in fair order, skipping whoever the admission decision
    does not admit now (no room for its size, or held back by a rule: it stays waiting).

    Outside the cancellation deadline the place is confirmed; inside it the place is offered:
    held for the class, which accepts or declines within the region's offer time (after which
    the expiry job gives it to the next class). The caller holds the session lock (and, through
    _lock_for_promotion, the waiting schools' locks)."""
    now = now or utcnow()
    if session.status == SessionStatus.CANCELLED or session.starts_at <= now:
        return []
    promoted = []
    for b in waitlist_order(session):
        if not fits(session, b.pupils):
            continue
        school = lock_school(b.school_id)
        decision = decide(school, ClassRef.of(b), [session], now, purpose=PROMOTE, exclude_ids=(b.id,))
        if not isinstance(decision, Admit):
            continue
        _race_point()
        if session.offer.approval_required:  # the coordinator still approves: the place is held as a request
            _set_status(b, BookingStatus.REQUESTED, actor, "promote", _("Plaats vrijgekomen"))
        elif now >= cancel_deadline(b):
            hours = session.offer.region.offer_hours
            _set_status(b, BookingStatus.OFFERED, actor, "offer", _("Plaats vrijgekomen"))
            b.offer_expires_at = min(now + timedelta(hours=hours), session.starts_at)
        else:
            _set_status(b, BookingStatus.CONFIRMED, actor, "promote", _("Plaats vrijgekomen"))
        _hold(session, b)
        promoted.append(b)
    db.session.flush()
    if promoted:
        session_changed(session.id)
    for b in promoted:
        if b.status == BookingStatus.REQUESTED:
            notify.booking_requested(b)
        elif b.status == BookingStatus.OFFERED:
            notify.booking_offered(b)
        else:
            notify.booking_promoted(b)
    return promoted


def promote_sessions(session_ids, now: datetime, *, commit_each: bool = False) -> int:
    """Promote on each of these sessions (the release job, switching a rule off)."""
    promoted = 0
    for sid in sorted(set(session_ids)):
        session = _lock_for_promotion([sid]).get(sid)
        if session is not None:
            promoted += len(promote_waitlist(session, now=now))
        if commit_each:
            db.session.commit()
    return promoted


def sessions_with_waiting(region_id: int, now: datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(Session.id)
            .join(Offer, Session.offer_id == Offer.id)
            .join(Booking, Booking.session_id == Session.id)
            .where(Offer.region_id == region_id, Session.starts_at > now, Booking.status == BookingStatus.WAITLISTED)
            .distinct()
        )
    )


def switch_rule_off(actor: User, rule_id: int, *, now: datetime | None = None):
    """Switch a fairness rule off; the classes it held back get the free places now."""
    from app.booking.models import FairnessRule

    now = now or utcnow()
    rule = db.session.get(FairnessRule, rule_id)
    if rule is None or not permissions.can_set_rules(actor, rule.region):
        raise BookingNotFound(_("Deze regel bestaat niet."))
    rule.active = False
    db.session.flush()
    promote_sessions(sessions_with_waiting(rule.region_id, now), now)
    return rule


def add_rule(actor: User, region, school_year: int, **fields):
    """Add a fairness rule to a region's school year: a maximum needs its N, a priority window its
    release date (``fields`` are FairnessRule's columns)."""
    from app.booking.models import FairnessRule, RuleKind

    if region is None or not permissions.can_set_rules(actor, region):
        raise NotAllowed(_("U mag de spelregels van deze regio niet wijzigen."))
    rule = FairnessRule(region_id=region.id, school_year=school_year, **fields)
    if rule.kind != RuleKind.PRIORITY_WINDOW and rule.max_count is None:
        raise InvalidInput(_("Vul een maximum in."), field="max_count")
    if rule.kind == RuleKind.PRIORITY_WINDOW and not rule.window_end:
        raise InvalidInput(_("Vul de vrijgavedatum in."), field="window_end")
    db.session.add(rule)
    db.session.flush()
    return rule


# ------------------------------------------------------------------ offered places


def _offer_for(actor: User, booking_id: int) -> tuple[Booking, Session]:
    booking = _load_booking(booking_id)
    if not permissions.can_cancel_booking(actor, booking):
        raise NotAllowed(_("U mag deze boeking niet wijzigen."))
    session = _lock_for_promotion([booking.session_id])[booking.session_id]
    db.session.refresh(booking)
    return booking, session


def accept_offer(actor: User, booking_id: int, *, now: datetime | None = None) -> Booking:
    """The class takes the offered place: the booking is confirmed (the place was held for it)."""
    now = now or utcnow()
    booking, session = _offer_for(actor, booking_id)
    if booking.status != BookingStatus.OFFERED:
        raise Refused(_("Er staat voor deze klas geen plaats klaar."), code="not_offered")
    if booking.offer_expires_at is not None and booking.offer_expires_at <= now:
        raise Refused(_("Het aanbod is verlopen; de plaats is naar de volgende klas gegaan."), code="offer_expired")
    _set_status(booking, BookingStatus.CONFIRMED, actor, "accept_offer")
    booking.offer_expires_at = None
    db.session.flush()
    session_changed(session.id)  # a confirmed class rides the bus; an offered one did not yet
    notify.booking_promoted(booking)
    return booking


def decline_offer(actor: User, booking_id: int, *, now: datetime | None = None) -> Booking:
    """The class does not take the offered place: it goes to the next waiting class."""
    now = now or utcnow()
    booking, session = _offer_for(actor, booking_id)
    if booking.status != BookingStatus.OFFERED:
        raise Refused(_("Er staat voor deze klas geen plaats klaar."), code="not_offered")
    _set_status(booking, BookingStatus.CANCELLED, actor, "decline_offer")
    booking.cancelled_at, booking.cancel_reason, booking.offer_expires_at = now, _("Aanbod afgeslagen"), None
    _release(session, booking)
    db.session.flush()
    promote_waitlist(session, now=now)
    return booking


def expire_offers(now: datetime) -> int:
    """Job: offered places not accepted in time go to the next class. Safe to run twice:
    each booking is re-read under the lock and only an offered, expired one is released."""
    expired = 0
    ids = db.session.scalars(
        select(Booking.id)
        .where(Booking.status == BookingStatus.OFFERED, Booking.offer_expires_at <= now)
        .order_by(Booking.id)
    ).all()
    for booking_id in ids:
        booking = db.session.get(Booking, booking_id)
        session = _lock_for_promotion([booking.session_id])[booking.session_id]
        db.session.refresh(booking)
        if booking.status == BookingStatus.OFFERED and booking.offer_expires_at <= now:
            _set_status(booking, BookingStatus.CANCELLED, None, "offer_expired")
            booking.cancelled_at, booking.cancel_reason, booking.offer_expires_at = now, _("Aanbod verlopen"), None
            _release(session, booking)
            db.session.flush()
            notify.booking_cancelled(booking)
            promote_waitlist(session, now=now)
            expired += 1
        db.session.commit()
    return expired


# ------------------------------------------------------------------ coordinator actions


def require_session_manager(actor: User, session: Session) -> None:
    if not permissions.can_manage_session(actor, session):
        raise NotAllowed(_("U beheert deze les niet."))


def move_booking(
    actor: User, booking_id: int, new_session_id: int, reason: str, *, now: datetime | None = None
) -> Booking:
    """Move a booking to another session of the same offer (and part), keeping series order.
    The new session is a new place for the class: the admission decision must admit it."""
    now = now or utcnow()
    booking = _load_booking(booking_id)
    require_session_manager(actor, booking.session)
    if not (reason or "").strip():
        raise InvalidInput(_("Geef een reden voor het verplaatsen."), field="reason")
    # the target session the form names: one of the actor's region they manage
    permissions.linkable(actor, Session, new_session_id, field="session_id", check=permissions.can_manage_session)
    sessions = _lock_for_promotion([booking.session_id, new_session_id], [booking.school_id])
    school = booking.school
    db.session.refresh(booking)
    old, new = sessions.get(booking.session_id), sessions.get(new_session_id)
    if new is None or new.offer_id != old.offer_id or new.part_id != old.part_id or new.id == old.id:
        raise Refused(
            _("Kies een andere datum van hetzelfde aanbod (en hetzelfde deel)."), code="move_target", field="session_id"
        )
    require_session_manager(actor, new)
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED):
        raise Refused(
            _("Alleen een bevestigde boeking of een klas op de wachtlijst kan worden verplaatst."), code="not_movable"
        )
    if booking.series is not None:
        siblings = {b.part_position: b for b in booking.series.bookings if b.id != booking.id}
        parts = {p.position: p for p in new.offer.parts}
        pos = booking.part_position
        prev, nxt = siblings.get(pos - 1), siblings.get(pos + 1)
        for earlier, later, part in ((prev, None, parts.get(pos)), (None, nxt, parts.get(pos + 1))):
            a = earlier.session.starts_at if earlier else (new.starts_at if later else None)
            b = new.starts_at if earlier else (later.session.starts_at if later else None)
            if a is None or b is None or part is None:
                continue
            gap = (to_local(b).date() - to_local(a).date()).days
            if gap < part.min_days_after_previous or gap > part.max_days_after_previous:
                raise Refused(
                    _(
                        "Zo klopt de volgorde van de reeks niet meer: tussen de delen moeten %(lo)s tot "
                        "%(hi)s dagen zitten.",
                        lo=part.min_days_after_previous,
                        hi=part.max_days_after_previous,
                    ),
                    code="series_gap",
                    field="session_id",
                )
    held = booking.holds_place
    decision = decide(school, ClassRef.of(booking), [new], now, purpose=MOVE, exclude_ids=(booking.id,))
    if isinstance(decision, Refuse) or (held and not isinstance(decision, Admit)):
        if isinstance(decision, Wait) and decision.rule == "full":
            raise Wait("full", _("Op de nieuwe datum is geen plaats voor deze klas.")).error()
        raise _refusal(decision)
    if held:
        _release(old, booking)
        _hold(new, booking)
    booking.session_id, booking.session = new.id, new
    booking.reminder_sent_at = None
    before = booking.status
    booking.sequence += 1
    _event(booking, actor, "move", before, booking.status, reason, from_session=old.id, to_session=new.id)
    db.session.flush()
    if held:
        session_changed(old.id)
        session_changed(new.id)
    notify.booking_changed(booking)
    if held:
        promote_waitlist(old, now=now)
    else:
        promote_waitlist(new, now=now)  # a waiting class moved to a session with room
    return booking


def change_capacity(
    actor: User, session_id: int, capacity_pupils: int, capacity_classes: int, *, now: datetime | None = None
) -> Session:
    session = _lock_for_promotion([session_id]).get(session_id)
    if session is None:
        raise BookingNotFound(_("Deze les bestaat niet."))
    require_session_manager(actor, session)
    if capacity_pupils < session.booked_pupils or capacity_classes < session.booked_classes:
        raise Refused(
            _(
                "Er zijn al %(p)s leerlingen in %(c)s klassen geboekt; lager kan niet. Verplaats of annuleer "
                "eerst boekingen.",
                p=session.booked_pupils,
                c=session.booked_classes,
            ),
            code="capacity_below_booked",
            field="capacity_pupils",
        )
    if capacity_pupils > 500 or capacity_classes > 20:
        raise InvalidInput(_("Die capaciteit is onwaarschijnlijk groot."), field="capacity_pupils")
    session.capacity_pupils, session.capacity_classes = capacity_pupils, capacity_classes
    db.session.flush()
    promote_waitlist(session, now=now)
    return session


def cancel_session(actor: User, session_id: int, reason: str, *, now: datetime | None = None) -> list[Booking]:
    """Cancel a session: every booking in it is cancelled and its school told. Safe to repeat."""
    now = now or utcnow()
    session = lock_sessions([session_id]).get(session_id)
    if session is None:
        raise BookingNotFound(_("Deze les bestaat niet."))
    require_session_manager(actor, session)
    if not (reason or "").strip():
        raise InvalidInput(_("Geef een reden: de scholen krijgen die te lezen."), field="reason")
    if session.status == SessionStatus.CANCELLED:
        return []
    bookings = list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id, Booking.status.in_(CANCELLABLE))
            .execution_options(populate_existing=True)
        )
    )
    for b in bookings:
        if b.holds_place:
            _release(session, b)
        _set_status(b, BookingStatus.CANCELLED, actor, "session_cancelled", reason)
        b.cancelled_at, b.cancel_reason = now, reason[:500]
    session.status = SessionStatus.CANCELLED
    session.cancel_reason = reason[:500]
    db.session.flush()
    session_changed(session.id, moved=True)
    for b in bookings:
        notify.booking_cancelled(b)
    _recheck_waiting_of({b.school_id for b in bookings if b.cancel_reason}, now)
    return bookings


ATTENDANCE = {
    "attended": BookingStatus.ATTENDED,
    "no_show": BookingStatus.NO_SHOW,
    "cancelled_late": BookingStatus.CANCELLED,
}


def record_attendance(
    actor: User, booking_id: int, status: str, attended_pupils: int | None = None, *, now: datetime | None = None
) -> Booking:
    """After the session: attended (with pupils present), no-show, or cancelled late."""
    now = now or utcnow()
    booking = _load_booking(booking_id)
    require_session_manager(actor, booking.session)
    if status not in ATTENDANCE:
        raise InvalidInput(_("Kies aanwezig, niet verschenen of te laat geannuleerd."), field="status")
    session = lock_sessions([booking.session_id])[booking.session_id]
    db.session.refresh(booking)
    if session.starts_at > now:
        raise Refused(_("Aanwezigheid kan pas worden vastgelegd als de les begonnen is."), code="not_started")
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
        raise Refused(_("Voor deze boeking kan geen aanwezigheid worden vastgelegd."), code="not_recordable")
    target = ATTENDANCE[status]
    if target == BookingStatus.ATTENDED:
        if attended_pupils is None or not 1 <= attended_pupils <= booking.pupils + 5:
            raise InvalidInput(
                _("Vul het aantal aanwezige leerlingen in (1 tot %(n)s).", n=booking.pupils + 5),
                field="attended_pupils",
            )
    was_holding = booking.holds_place
    if booking.status != target or booking.attended_pupils != attended_pupils:
        before = booking.status
        booking.status = target
        booking.attended_pupils = attended_pupils if target == BookingStatus.ATTENDED else None
        if target == BookingStatus.CANCELLED:
            booking.cancelled_at, booking.cancel_reason = now, _("Te laat geannuleerd")
        _event(booking, actor, "attendance", before, target, "", attended_pupils=attended_pupils)
    if was_holding and not booking.holds_place:
        _release(session, booking)
    elif not was_holding and booking.holds_place:
        session.booked_pupils += booking.pupils
        session.booked_classes += 1
    db.session.flush()
    return booking


# ------------------------------------------------------------------ undoing a cancellation


def undo_deadline(booking: Booking) -> datetime | None:
    """Until when the cancellation of this booking may be undone (None: it may not)."""
    if booking.status != BookingStatus.CANCELLED or booking.cancelled_at is None or not booking.events:
        return None
    last = booking.events[-1]
    if last.action != "cancel" or last.from_status != BookingStatus.CONFIRMED.value:
        return None  # only a confirmed place given up by a cancel (not a session cancelled, an offer declined …)
    return booking.cancelled_at + timedelta(minutes=current_app.config.get("UNDO_CANCEL_MINUTES", 15))


def can_undo_cancel(actor: User, booking: Booking, now: datetime | None = None) -> bool:
    deadline = undo_deadline(booking)
    return deadline is not None and (now or utcnow()) < deadline and permissions.can_cancel_booking(actor, booking)


def undo_cancel(actor: User, booking_id: int, *, now: datetime | None = None) -> list[Booking]:
    """Restore a cancelled booking (all parts of a series cancelled together) within the grace
    period, when the place is still free: the admission decision must admit the class again
    under the same locks as a booking (a waiting class promoted meanwhile keeps its place)."""
    now = now or utcnow()
    booking = _load_booking(booking_id)
    if not permissions.can_cancel_booking(actor, booking):
        raise NotAllowed(_("U mag deze boeking niet wijzigen."))
    cancelled_at = booking.cancelled_at
    targets = (
        [b for b in booking.series.bookings if b.cancelled_at == cancelled_at]
        if booking.series is not None
        else [booking]
    )
    school = lock_school(booking.school_id)
    sessions = lock_sessions([b.session_id for b in targets])
    for b in targets:
        db.session.refresh(b)
    deadline = undo_deadline(booking)
    if deadline is None or any(undo_deadline(b) is None for b in targets):
        raise Refused(_("Deze annulering kan niet ongedaan worden gemaakt."), code="not_undoable")
    if now >= deadline:
        minutes = current_app.config.get("UNDO_CANCEL_MINUTES", 15)
        raise Refused(
            _("Een annulering kan tot %(n)s minuten daarna ongedaan worden gemaakt; die tijd is voorbij.", n=minutes),
            code="undo_expired",
        )
    chain = [sessions[b.session_id] for b in targets]
    decision = decide(school, ClassRef.of(booking), chain, now, purpose=PROMOTE, exclude_ids=[b.id for b in targets])
    if not isinstance(decision, Admit):
        if isinstance(decision, Wait) and decision.rule == "full":
            raise Refused(
                _("De plaats is niet meer vrij: de annulering kan niet ongedaan worden gemaakt."), code="place_taken"
            )
        raise _refusal(decision)
    for b in targets:
        _set_status(b, BookingStatus.CONFIRMED, actor, "undo_cancel")
        b.cancelled_at, b.cancel_reason = None, ""
        _hold(sessions[b.session_id], b)
    if booking.series is not None:
        booking.series.status = BookingStatus.CONFIRMED
    db.session.flush()
    for s in chain:
        session_changed(s.id)
    if booking.series is not None:
        notify.series_confirmed(booking.series)
    else:
        notify.booking_confirmed(booking)
    return targets


# ------------------------------------------------------------------ changing a booking

# what a booking's class may change (counts, contact, remarks and the class itself)
CHANGEABLE = ("groep", "class_name", "pupils", "adults", "contact_name", "contact_email", "remarks")
CHANGE_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.REQUESTED, BookingStatus.WAITLISTED)


def change_deadline(booking: Booking) -> datetime:
    """Until when the school may change the booking (the offer's change deadline, days before)."""
    return booking.session.starts_at - timedelta(days=booking.session.offer.change_deadline_days or 0)


def can_teacher_change(booking: Booking, now: datetime) -> bool:
    bookings = booking.series.bookings if booking.series is not None else [booking]
    upcoming = [b for b in bookings if b.status in CHANGE_STATUSES and b.session.starts_at > now]
    return booking.status in CHANGE_STATUSES and bool(upcoming) and all(change_deadline(b) > now for b in upcoming)


def _value_of(booking: Booking, name: str):
    return booking.groep_label if name == "groep" else getattr(booking, name)


def change_booking(actor: User, booking_id: int, changes: dict, *, now: datetime | None = None) -> Booking:
    """Change a booking's class (pupils, adults, contact, remarks, groep, class name) — every part of a
    series alike — until the offer's change deadline (a coordinator: until the session starts).

    The changed class asks the same admission decision as a new booking, under the same locks
    (the school, the waiting schools, then the sessions), with its own place released for the
    question: more pupils must fit, a new class name must not be booked already, a new groep
    must be targeted. The school gets a mail with old → new; buses are re-planned; places freed
    by fewer pupils go to the waiting list."""
    now = now or utcnow()
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise InvalidInput(
            _("Dit kan niet worden gewijzigd: %(fields)s.", fields=", ".join(sorted(unknown))), field=sorted(unknown)[0]
        )
    booking = _load_booking(booking_id)
    if not permissions.can_change_booking(actor, booking):
        raise NotAllowed(_("U mag deze boeking niet wijzigen."))
    targets = list(booking.series.bookings) if booking.series is not None else [booking]
    sessions = _lock_for_promotion([b.session_id for b in targets], [booking.school_id])
    school = booking.school
    for b in targets:
        db.session.refresh(b)
    targets = [b for b in targets if b.status in CHANGE_STATUSES]
    if booking.status not in CHANGE_STATUSES or not targets:
        raise Refused(_("Deze boeking kan niet meer worden gewijzigd."), code="not_changeable")
    if any(sessions[b.session_id].starts_at <= now for b in targets):
        raise Refused(_("Deze les is al begonnen of geweest; wijzigen kan niet meer."), code="not_changeable")
    if actor.role == Role.TEACHER and not all(change_deadline(b) > now for b in targets):
        raise Refused(
            _(
                "Wijzigen kon tot %(when)s. Neem contact op met de coördinator van het techlab.",
                when=to_local(min(change_deadline(b) for b in targets)).strftime("%d-%m-%Y %H:%M"),
            ),
            code="change_deadline_passed",
        )
    current = {name: _value_of(booking, name) for name in CHANGEABLE}
    wanted = {**current, **{k: v for k, v in changes.items()}}
    if "class_name" not in changes and booking.class_name == booking.groep_label:
        wanted["class_name"] = ""  # a class named after its groep follows a new groep
    details = ClassDetails(
        school_id=booking.school_id,
        groep=wanted["groep"],
        pupils=wanted["pupils"],
        adults=wanted["adults"],
        contact_name=(wanted["contact_name"] or "").strip(),
        contact_email=(wanted["contact_email"] or "").strip(),
        remarks=(wanted["remarks"] or "").strip(),
        class_name=wanted["class_name"] or "",
    )
    groep = _validate(details)
    class_name = _class_name(details, groep)
    if "contact_name" in changes and not details.contact_name:
        raise InvalidInput(_("Vul een naam in."), field="contact_name")
    if "contact_email" in changes and not details.contact_email:
        raise InvalidInput(_("Vul een e-mailadres in."), field="contact_email")
    if len(details.contact_name) > 200 or len(details.contact_email) > 254:
        raise InvalidInput(_("Deze tekst is te lang."), field="contact_name")
    after = {
        "groep": "/".join(str(g) for g in range(groep[0], groep[1] + 1)) if groep[0] != groep[1] else str(groep[0]),
        "class_name": class_name,
        "pupils": details.pupils,
        "adults": details.adults,
        "contact_name": details.contact_name,
        "contact_email": details.contact_email,
        "remarks": details.remarks,
    }
    diff = {k: [current[k], after[k]] for k in CHANGEABLE if current[k] != after[k]}
    if not diff:
        return booking
    klass = ClassRef(school.id, class_name, groep[0], groep[1], details.pupils, details.adults)
    chain = [sessions[b.session_id] for b in targets]
    held = [b for b in targets if b.holds_place]
    for b in held:  # the class's own place does not count against it
        _release(sessions[b.session_id], b)
    decision = decide(school, klass, chain, now, purpose=CHANGE, exclude_ids=tuple(b.id for b in targets))
    _race_point()
    admitted = isinstance(decision, Admit) or (isinstance(decision, Wait) and not held)
    for b in held:
        _hold(sessions[b.session_id], b)
    if not admitted:
        if isinstance(decision, Wait) and decision.rule == "full":
            raise SessionFull(
                _(
                    "Voor %(n)s leerlingen is in deze les geen plaats meer. Het aantal is niet gewijzigd.",
                    n=details.pupils,
                ),
                field="pupils",
            )
        raise decision.error()
    fewer = details.pupils < booking.pupils
    for b in targets:
        if b.holds_place:
            _release(sessions[b.session_id], b)
        b.groep_min, b.groep_max, b.class_name = groep[0], groep[1], class_name
        b.pupils, b.adults = details.pupils, details.adults
        b.contact_name, b.contact_email, b.remarks = details.contact_name, details.contact_email, details.remarks
        if b.holds_place:
            _hold(sessions[b.session_id], b)
        b.sequence += 1
        _event(b, actor, "change", b.status, b.status, "", changes=diff)
    db.session.flush()
    for b in targets:
        if b.status == BookingStatus.CONFIRMED:
            session_changed(b.session_id)
    notify.booking_updated(booking, targets, diff)
    if fewer:
        for b in held:
            promote_waitlist(sessions[b.session_id], now=now)
    return booking


# ------------------------------------------------------------------ approval


def _request_targets(actor: User, booking_id: int) -> tuple[Booking, list[Booking], dict[int, Session]]:
    booking = _load_booking(booking_id)
    require_session_manager(actor, booking.session)
    targets = list(booking.series.bookings) if booking.series is not None else [booking]
    sessions = _lock_for_promotion([b.session_id for b in targets], [booking.school_id])
    for b in targets:
        db.session.refresh(b)
        require_session_manager(actor, sessions[b.session_id])
    targets = [b for b in targets if b.status == BookingStatus.REQUESTED]
    if booking.status != BookingStatus.REQUESTED or not targets:
        raise Refused(_("Deze aanvraag is al beantwoord of ingetrokken."), code="not_requested")
    return booking, targets, sessions


def approve_booking(actor: User, booking_id: int, *, now: datetime | None = None) -> Booking:
    """The coordinator approves a request: the booking (every part of a series) is confirmed. Its place
    was held all along, so there is nothing to re-check but the session still being ahead."""
    now = now or utcnow()
    booking, targets, sessions = _request_targets(actor, booking_id)
    if any(
        sessions[b.session_id].starts_at <= now or sessions[b.session_id].status == SessionStatus.CANCELLED
        for b in targets
    ):
        raise Refused(_("Deze les is al geweest of gaat niet door."), code="session_past")
    for b in targets:
        _set_status(b, BookingStatus.CONFIRMED, actor, "approve")
    if booking.series is not None:
        booking.series.status = BookingStatus.CONFIRMED
    db.session.flush()
    for b in targets:
        session_changed(b.session_id)
    notify.request_approved(booking, targets)
    return booking


def decline_request(actor: User, booking_id: int, reason: str, *, now: datetime | None = None) -> Booking:
    """The coordinator declines a request, with a reason the school reads. The held place is freed
    and goes to the waiting list through the same promotion as a cancellation."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Geef een reden: de school krijgt die te lezen."), field="reason")
    booking, targets, sessions = _request_targets(actor, booking_id)
    for b in targets:
        _set_status(b, BookingStatus.CANCELLED, actor, "decline_request", reason)
        b.cancelled_at, b.cancel_reason = now, reason[:500]
        _release(sessions[b.session_id], b)
    if booking.series is not None:
        booking.series.status = BookingStatus.CANCELLED
    db.session.flush()
    notify.request_declined(booking, targets)
    for b in targets:
        promote_waitlist(sessions[b.session_id], now=now)
    return booking


def pending_requests(actor: User) -> list[Booking]:
    """The requests waiting for this coordinator's answer (sessions they manage), soonest first."""
    stmt = (
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(Booking.status == BookingStatus.REQUESTED, Session.starts_at > utcnow())
        .order_by(Session.starts_at, Booking.created_at, Booking.id)
    )
    # the region in SQL; which of its sessions the coordinator manages (their venues, or an
    # offer's parts at them) is the gate's, per booking
    stmt = stmt.join(Offer, Session.offer_id == Offer.id).where(*region_scope(actor, Offer.region_id))
    return [
        b
        for b in db.session.scalars(stmt)
        if permissions.can_manage_session(actor, b.session)
        and (b.series is None or b.part_position == min(x.part_position or 0 for x in b.series.bookings))
    ]


def competing(booking: Booking) -> list[Booking]:
    """The other classes in the same session(s) asking or holding a place: what approving means."""
    own = booking.series.bookings if booking.series is not None else [booking]
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.session_id.in_([b.session_id for b in own]),
                Booking.id.not_in([b.id for b in own]),
                Booking.status.in_(
                    (BookingStatus.REQUESTED, BookingStatus.WAITLISTED, BookingStatus.CONFIRMED, BookingStatus.OFFERED)
                ),
            )
            .order_by(Booking.created_at, Booking.id)
        )
    )


def lab_contact(booking: Booking):
    """Whom the school contacts about a booking: the venue of its session (or of the offer)."""
    return booking.session.venue or booking.session.offer.venue
