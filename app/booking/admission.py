"""The admission decision: may this class have a place in these sessions now?

Every path that gives a class a place or a waiting-list entry asks ``decide`` — a direct
booking (pages and API), a series booking, a request round's allocation (through
create_booking / create_series_booking), a promotion from the waiting list (on a
cancellation, a capacity increase, a declined or expired offer, a rule's release date or
its switching off), a coordinator's move and a coordinator's booking with an override. The
caller holds the locks (the school row, then the sessions in id order), so what the class and
the school already hold — including bookings flushed earlier in the same transaction — is
counted under the lock.

The answer is one of:

* ``Admit``: the class may have the place now;
* ``Wait(rule, message, until)``: not now — the session has no room (rule ``full``) or a rule
  holds the class back (``priority_window`` until its release date); it may wait on the list;
* ``Refuse(rule, message, what_to_do)``: not at all (session past or cancelled, groep not
  targeted, too few adults, the class already has this session, the school's classes per
  session, a per-school or per-class limit).

An override (a coordinator's reason) is the only way past the region's rules (limits, the
priority window, classes per school per session); it is recorded with its reason and actor in
the booking's audit trail by the caller. Capacity, the session's state and the class's
own duplicate are never overridden.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field as dc_field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, select

from app.booking.errors import AlreadyBooked, BookingError, Refused, SessionFull
from app.booking.fairness import RuleRefused, check_booking_rules
from app.booking.models import ACTIVE, Booking
from app.extensions import db
from app.labs.capacity import fits
from app.labs.models import Session, SessionStatus
from app.timeutil import to_local

BOOK, PROMOTE, MOVE, CHANGE = "book", "promote", "move", "change"


@dataclass(frozen=True)
class ClassRef:
    """The class asking for a place, as the decision sees it."""

    school_id: int
    class_name: str
    groep_min: int
    groep_max: int
    pupils: int
    adults: int = 0

    @classmethod
    def of(cls, booking: Booking) -> "ClassRef":
        return cls(
            booking.school_id, booking.class_name, booking.groep_min, booking.groep_max, booking.pupils, booking.adults
        )


@dataclass(frozen=True)
class Admit:
    override: bool = False
    admitted = True


@dataclass(frozen=True)
class Wait:
    rule: str  # "full" or the rule's code ("priority_window")
    message: str
    until: datetime | None = None
    rule_id: int | None = None
    what_to_do: str = ""
    session_id: int | None = None  # the (first) session without room
    part: int | None = None  # its part, in a series
    admitted = False

    def error(self) -> BookingError:
        if self.rule == "full":
            return SessionFull(self.message, **({"part": self.part} if self.part is not None else {}))
        return RuleRefused(
            self.message,
            code=self.rule,
            rule_id=self.rule_id,
            what_to_do=self.what_to_do,
            release_at=self.until.isoformat() if self.until else None,
        )


@dataclass(frozen=True)
class Refuse:
    rule: str
    message: str
    what_to_do: str = ""
    rule_id: int | None = None
    field: str | None = None
    extra: dict = dc_field(default_factory=dict)
    admitted = False

    def error(self) -> BookingError:
        if self.rule == "already_booked":
            return AlreadyBooked(self.message, what_to_do=self.what_to_do)

        cls = RuleRefused if self.rule_id is not None else Refused
        extra = {k: v for k, v in dict(rule_id=self.rule_id, what_to_do=self.what_to_do, **self.extra).items() if v}
        return cls(self.message, code=self.rule, field=self.field, **extra)


Decision = Admit | Wait | Refuse


def bypassed() -> bool:
    """Test seam for the control case only: ADMISSION_BYPASS_RULES skips the region's rules
    (limits and the priority window), as promotion and the round allocation once did."""
    return bool(current_app.config.get("ADMISSION_BYPASS_RULES", False))


def _session_state(session: Session, now: datetime, purpose: str) -> Refuse | None:
    if session.status == SessionStatus.CANCELLED:
        return Refuse("session_cancelled", _("Deze les gaat niet door. Kies een andere datum."))
    if session.starts_at <= now:
        return Refuse("session_past", _("Deze les is al geweest. Kies een datum in de toekomst."))
    if purpose in (PROMOTE, CHANGE):  # the class asked (or booked) while booking was open; the offer's window
        return None  # no longer matters (a change has its own deadline: change_deadline_days)
    offer = session.offer
    if not offer.published:
        return Refuse("offer_unpublished", _("Dit aanbod is (nog) niet te boeken."))
    if offer.booking_opens_at is not None and now < offer.booking_opens_at:
        return Refuse(
            "window_not_open",
            _("Boeken kan vanaf %(when)s.", when=to_local(offer.booking_opens_at).strftime("%d-%m-%Y %H:%M")),
        )
    if offer.booking_closes_at is not None and now >= offer.booking_closes_at:
        return Refuse(
            "window_closed",
            _(
                "Boeken voor dit aanbod is gesloten sinds %(when)s.",
                when=to_local(offer.booking_closes_at).strftime("%d-%m-%Y"),
            ),
        )
    if purpose == BOOK:
        return _notice_and_horizon(session, now)
    return None


def notice_deadline(session: Session) -> datetime:
    """The last moment a class may book this session (the offer's minimum notice)."""
    return session.starts_at - timedelta(days=session.offer.min_notice_days or 0)


def horizon_opens(session: Session) -> datetime | None:
    """The first moment a class may book this session (the offer's booking horizon), or None."""
    weeks = session.offer.booking_horizon_weeks
    return session.starts_at - timedelta(weeks=weeks) if weeks else None


def _notice_and_horizon(session: Session, now: datetime) -> Refuse | None:
    """The offer's minimum notice (at least M days before) and booking horizon (at most N weeks ahead)."""
    offer = session.offer
    if offer.min_notice_days and now > notice_deadline(session):
        return Refuse(
            "min_notice",
            ngettext(
                "Boeken kan tot uiterlijk %(num)s dag van tevoren.",
                "Boeken kan tot uiterlijk %(num)s dagen van tevoren.",
                offer.min_notice_days,
            ),
            what_to_do=_("Kies een latere datum."),
            extra={"min_notice_days": offer.min_notice_days},
        )
    opens = horizon_opens(session)
    if opens is not None and now < opens:
        return Refuse(
            "booking_horizon",
            ngettext(
                "Boeken kan hoogstens %(num)s week van tevoren; voor deze les kan dat vanaf %(when)s.",
                "Boeken kan hoogstens %(num)s weken van tevoren; voor deze les kan dat vanaf %(when)s.",
                offer.booking_horizon_weeks,
                when=to_local(opens).strftime("%d-%m-%Y"),
            ),
            what_to_do=_("Kies een eerdere datum, of boek later."),
            extra={"booking_horizon_weeks": offer.booking_horizon_weeks, "opens_at": opens.isoformat()},
        )
    return None


def _class_fits_offer(offer, klass: ClassRef) -> Refuse | None:
    if not offer.targets_groep(klass.groep_min, klass.groep_max):
        return Refuse(
            "groep_not_targeted",
            _("Dit aanbod is voor groep %(lo)s tot en met %(hi)s.", lo=offer.groep_min, hi=offer.groep_max),
            field="groep",
        )
    if klass.adults < offer.adults_per_class:
        return Refuse(
            "adults_required",
            _("Per klas zijn minstens %(n)s begeleiders nodig.", n=offer.adults_per_class),
            field="adults",
        )
    return None


@functools.cache
def _classes_stmt():
    """Built once per process, on first use."""
    return select(Booking.class_name).where(
        Booking.session_id == bindparam("session_id"),
        Booking.school_id == bindparam("school_id"),
        Booking.status.in_(ACTIVE),
    )


def _classes_of_school(session: Session, school_id: int, exclude_ids) -> list[str]:
    stmt = _classes_stmt()
    if exclude_ids:
        stmt = stmt.where(Booking.id.not_in(list(exclude_ids)))
    return list(db.session.scalars(stmt, {"session_id": session.id, "school_id": school_id}))


def _one_per_class(session: Session, klass: ClassRef, exclude_ids, override: bool) -> Refuse | None:
    names = _classes_of_school(session, klass.school_id, exclude_ids)
    if klass.class_name.lower() in {n.lower() for n in names}:
        return Refuse(
            "already_booked",
            _(
                "Klas %(name)s van uw school heeft deze les al geboekt (of staat op de wachtlijst).",
                name=klass.class_name,
            ),
            what_to_do=_("Kies een andere datum, of geef de andere klas een eigen naam."),
        )
    allowed = session.offer.region.classes_per_school_session
    if names and len(names) >= allowed and not override:
        return Refuse(
            "classes_per_school_session",
            ngettext_classes(allowed),
            what_to_do=_("Kies een andere datum voor deze klas."),
            field="class_name",
        )
    return None


def ngettext_classes(allowed: int) -> str:
    if allowed <= 1:
        return _("In deze regio boekt een school met één klas per les; uw school heeft deze les al geboekt.")
    return _(
        "In deze regio boeken hoogstens %(n)s klassen van een school dezelfde les; uw school heeft er al zoveel.",
        n=allowed,
    )


def decide(
    school,
    klass: ClassRef,
    sessions: list[Session],
    now: datetime,
    *,
    override: str | None = None,
    purpose: str = BOOK,
    exclude_ids=(),
) -> Decision:
    """The one admission decision (see the module's text). The caller holds the locks."""
    overridden = bool((override or "").strip())
    for s in sessions:
        refused = _session_state(s, now, purpose)
        if refused is not None:
            return refused
    if purpose in (BOOK, CHANGE):
        refused = _class_fits_offer(sessions[0].offer, klass)
        if refused is not None:
            return refused
    for s in sessions:
        refused = _one_per_class(s, klass, exclude_ids, overridden)
        if refused is not None:
            return refused
    if not overridden and not bypassed():
        try:
            check_booking_rules(
                None,
                school,
                sessions,
                klass.groep_min,
                klass.groep_max,
                now,
                class_name=klass.class_name,
                exclude_ids=exclude_ids,
            )
        except RuleRefused as exc:
            if exc.code == "priority_window":
                release = exc.extra.get("release_at")
                return Wait(
                    "priority_window",
                    exc.message,
                    datetime.fromisoformat(release) if release else None,
                    rule_id=exc.extra.get("rule_id"),
                    what_to_do=exc.extra.get("what_to_do", ""),
                )
            return Refuse(
                exc.code,
                exc.message,
                exc.extra.get("what_to_do", ""),
                rule_id=exc.extra.get("rule_id"),
                field=exc.field,
            )
    for s in sessions:
        if not fits(s, klass.pupils):
            part = None
            if len(sessions) > 1:
                part = s.part.position if s.part is not None else None
                message = _(
                    "Deel %(n)s (%(when)s) is vol. Kies voor dat deel een andere datum.",
                    n=part,
                    when=to_local(s.starts_at).strftime("%d-%m-%Y"),
                )
            else:
                message = _("Deze les is vol. Zet uw klas op de wachtlijst of kies een andere datum.")
            return Wait("full", message, session_id=s.id, part=part if len(sessions) > 1 else None)
    return Admit(override=overridden)


# ------------------------------------------------------------------ read-only explanations


def waiting_position(booking: Booking) -> int | None:
    """The waiting entry's place in the promotion order (1 = next), or None if it does not wait."""
    from app.booking.services import waitlist_order

    order = waitlist_order(booking.session)
    for i, b in enumerate(order, start=1):
        if b.id == booking.id:
            return i
    return None


def why_waiting(booking: Booking, now: datetime) -> Decision:
    """What holds a waiting class back right now (read-only; for pages, mails and the API)."""
    return decide(
        booking.school, ClassRef.of(booking), [booking.session], now, purpose=PROMOTE, exclude_ids=(booking.id,)
    )


@dataclass(frozen=True)
class WaitingInfo:
    """Why a waiting class waits, for the teacher: its place in the order and the rule (if any)."""

    position: int | None
    rule: str  # "full", a rule's code, or "room" (about to be promoted: there is room and nothing holds it)
    message: str
    until: datetime | None = None
    rule_id: int | None = None

    def as_json(self) -> dict:
        return {
            "position": self.position,
            "rule": self.rule,
            "message": self.message,
            "until": self.until.isoformat() if self.until else None,
            "rule_id": self.rule_id,
        }


def waiting_info(booking: Booking, now: datetime) -> WaitingInfo:
    decision = why_waiting(booking, now)
    position = waiting_position(booking)
    if isinstance(decision, Admit):
        return WaitingInfo(
            position,
            "room",
            _(
                "Er is plaats; uw klas krijgt die zodra de klassen vóór haar op de "
                "wachtlijst aan de beurt zijn geweest."
            ),
        )
    if isinstance(decision, Wait):
        return WaitingInfo(position, decision.rule, decision.message, decision.until, decision.rule_id)
    return WaitingInfo(position, decision.rule, decision.message, None, decision.rule_id)


def school_outlook(school, session: Session, now: datetime) -> Wait | Refuse | None:
    """Before booking: a rule that holds this school back from the session now (the priority
    window, a per-school limit), so the booking page can say so up front. Read-only."""
    offer = session.offer
    probe = ClassRef(school.id, "", offer.groep_min, offer.groep_min, 1, offer.adults_per_class)
    decision = decide(school, probe, [session], now)
    if isinstance(decision, Wait) and decision.rule != "full":
        return decision
    if isinstance(decision, Refuse) and (
        decision.rule.startswith("quota_school") or decision.rule == "classes_per_school_session"
    ):
        return decision
    return None
