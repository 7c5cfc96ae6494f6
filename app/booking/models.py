"""Bookings, series bookings, the audit trail, fairness rules and request rounds."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Region, User
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db
from app.labs.models import Offer, Session
from app.schools.models import School


class BookingStatus(str, enum.Enum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # promoted inside the cancellation deadline: holds the place until accepted or expired
    # "aangevraagd": on an offer with approval required, the booking waits for the coordinator's
    # approval; it holds its place meanwhile (counts toward capacity) but does not reach the school
    REQUESTED = "requested"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


# statuses that hold a place in the session's capacity
HOLDS_PLACE = (BookingStatus.CONFIRMED, BookingStatus.OFFERED, BookingStatus.REQUESTED, BookingStatus.ATTENDED)
# statuses under which a class "has" a session (one booking per class per session)
ACTIVE = (
    BookingStatus.CONFIRMED,
    BookingStatus.WAITLISTED,
    BookingStatus.OFFERED,
    BookingStatus.REQUESTED,
    BookingStatus.ATTENDED,
    BookingStatus.NO_SHOW,
)
_ACTIVE_SQL = "status IN ('confirmed', 'waitlisted', 'offered', 'requested', 'attended', 'no_show')"


def _groep_name(row: dict) -> str:
    """A class without a name of its own is named after its groep ("7", "7/8"), as the migration did."""
    lo, hi = row.get("groep_min"), row.get("groep_max")
    if lo is None or hi is None:
        return ""
    return str(lo) if lo == hi else "/".join(str(g) for g in range(lo, hi + 1))


class SeriesBooking(db.Model):
    """A class's booking of all parts of a series offer; its bookings are the parts."""

    __tablename__ = "series_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus, "series_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    offer: Mapped[Offer] = relationship()
    school: Mapped[School] = relationship()
    bookings: Mapped[list["Booking"]] = relationship(back_populates="series", order_by="Booking.part_position")


class Booking(db.Model):
    """One class of one school in one session. Counts only: never pupil names."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("pupils BETWEEN 1 AND 40", name="pupils_range"),
        CheckConstraint("adults BETWEEN 0 AND 10", name="adults_range"),
        CheckConstraint("groep_min BETWEEN 1 AND 8 AND groep_max BETWEEN 1 AND 8", name="groep_range"),
        CheckConstraint("groep_min <= groep_max", name="groep_order"),
        CheckConstraint("attended_pupils IS NULL OR attended_pupils >= 0", name="attended_not_negative"),
        CheckConstraint("girls IS NULL OR girls >= 0", name="girls_not_negative"),
        CheckConstraint("boys IS NULL OR boys >= 0", name="boys_not_negative"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        # one active booking per class of a school per session: the database backstop (how many
        # classes of one school may share a session is the region's setting, checked by admission)
        Index(
            "uq_bookings_session_id_school_id_class_name_active",
            "session_id",
            "school_id",
            "class_name",
            unique=True,
            postgresql_where=text(_ACTIVE_SQL),
            sqlite_where=text(_ACTIVE_SQL),
        ),
        Index("ix_bookings_school_id_status", "school_id", "status"),
        Index("ix_bookings_session_id_status", "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    series_id: Mapped[Optional[int]] = mapped_column(ForeignKey("series_bookings.id"), index=True)
    part_position: Mapped[Optional[int]] = mapped_column(Integer)
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus, "booking_status"))
    # the class: "7" or a combination such as "7/8"
    groep_min: Mapped[int] = mapped_column(Integer)
    groep_max: Mapped[int] = mapped_column(Integer)
    # the class's own name within its school ("7A", "groep 7/8 b"); per-class limits count per name
    class_name: Mapped[str] = mapped_column(String(40), default=lambda ctx: _groep_name(ctx.get_current_parameters()))
    pupils: Mapped[int] = mapped_column(Integer)
    adults: Mapped[int] = mapped_column(Integer, default=0)
    contact_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    remarks: Mapped[str] = mapped_column(Text, default="")  # accessibility needs etc.
    # optional aggregate counts, never per pupil
    girls: Mapped[Optional[int]] = mapped_column(Integer)
    boys: Mapped[Optional[int]] = mapped_column(Integer)
    attended_pupils: Mapped[Optional[int]] = mapped_column(Integer)
    # transport: the school may decline the bus (own transport)
    bus_declined: Mapped[bool] = mapped_column(default=False)
    # rule override granted by a coordinator
    override_reason: Mapped[str] = mapped_column(String(500), default="")
    # iCalendar SEQUENCE, raised on every change
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    waitlisted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # an offered place (status offered) goes to the next class when not accepted by then
    offer_expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[Session] = relationship()
    school: Mapped[School] = relationship()
    series: Mapped[Optional[SeriesBooking]] = relationship(back_populates="bookings")
    contact_user: Mapped[Optional[User]] = relationship()
    events: Mapped[list["BookingEvent"]] = relationship(
        back_populates="booking", order_by="BookingEvent.id", cascade="all, delete-orphan"
    )

    @property
    def groep_label(self) -> str:
        if self.groep_min == self.groep_max:
            return str(self.groep_min)
        return "/".join(str(g) for g in range(self.groep_min, self.groep_max + 1))

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDS_PLACE

    def __repr__(self) -> str:
        return f"<Booking {self.id} session={self.session_id} school={self.school_id} {self.status.value}>"


class BookingEvent(db.Model):
    """The audit trail: every state change of a booking — who, when, from → to, why."""

    __tablename__ = "booking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(40))  # create, cancel, promote, move, attend, override …
    from_status: Mapped[Optional[str]] = mapped_column(String(20))
    to_status: Mapped[Optional[str]] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[Optional[dict]] = mapped_column(JSON)

    booking: Mapped[Booking] = relationship(back_populates="events")
    actor: Mapped[Optional[User]] = relationship()


class RuleKind(str, enum.Enum):
    MAX_PER_SCHOOL = "max_per_school"  # at most N bookings per school in the scope
    MAX_PER_CLASS = "max_per_class"  # at most N bookings per class (groep) in the scope
    PRIORITY_WINDOW = "priority_window"  # until release_at only schools not yet reached


class RuleScope(str, enum.Enum):
    YEAR = "year"  # the whole school year
    TERM = "term"  # a term: window_start .. window_end
    OFFER = "offer"  # one offer (scope_value = offer id)
    OFFER_KIND = "offer_kind"  # e.g. masterclass series (scope_value = OfferKind)
    WORLD = "world"  # one world of technology (scope_value = World)


class FairnessRule(db.Model):
    __tablename__ = "fairness_rules"
    __table_args__ = (
        CheckConstraint("max_count IS NULL OR max_count >= 0", name="max_count_not_negative"),
        Index("ix_fairness_rules_region_id_school_year", "region_id", "school_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    school_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[RuleKind] = mapped_column(str_enum(RuleKind, "rule_kind"))
    scope: Mapped[RuleScope] = mapped_column(str_enum(RuleScope, "rule_scope"), default=RuleScope.YEAR)
    scope_value: Mapped[str] = mapped_column(String(60), default="")
    max_count: Mapped[Optional[int]] = mapped_column(Integer)
    # priority window: schools below this share of pupils reached may book early
    max_reach_share: Mapped[Optional[float]] = mapped_column(Float)
    window_start: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    window_end: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # release date for windows
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship()


# The region's active rules (of every school year), read by the booking lock in its own statement
# (app.booking.locking.lock_sessions), so the admission decision asks no statement of its own for
# them (app.booking.fairness.rules_in_force). Read-only; rules are written as FairnessRule rows.
Region.active_fairness_rules = relationship(
    FairnessRule,
    primaryjoin=lambda: (FairnessRule.region_id == Region.id) & FairnessRule.active.is_(True),
    foreign_keys=lambda: [FairnessRule.region_id],
    order_by=lambda: FairnessRule.id,
    viewonly=True,
)


class RoundStatus(str, enum.Enum):
    OPEN = "open"
    ALLOCATED = "allocated"  # previewed, not committed
    COMMITTED = "committed"
    CANCELLED = "cancelled"


class RequestRound(db.Model):
    """A request round: wishes until the deadline, then a reproducible allocation."""

    __tablename__ = "request_rounds"
    __table_args__ = (
        CheckConstraint("deadline_at > opens_at", name="deadline_after_open"),
        CheckConstraint("period_end >= period_start", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    school_year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the local dates of the sessions the round offers (empty on rounds made before periods existed)
    period_start: Mapped[Optional[date]] = mapped_column()
    period_end: Mapped[Optional[date]] = mapped_column()
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus, "round_status"), default=RoundStatus.OPEN)
    seed: Mapped[Optional[str]] = mapped_column(String(64))
    weight_distance: Mapped[float] = mapped_column(Float, default=0.0)
    weight_cbs: Mapped[float] = mapped_column(Float, default=0.0)
    allocated_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    committed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship()
    requests: Mapped[list["RoundRequest"]] = relationship(back_populates="round", cascade="all, delete-orphan")


class RoundRequest(db.Model):
    """A class's request in a round, with ranked wishes; the outcome after allocation."""

    __tablename__ = "round_requests"
    __table_args__ = (
        CheckConstraint("pupils BETWEEN 1 AND 40", name="pupils_range"),
        CheckConstraint("groep_min <= groep_max", name="groep_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("request_rounds.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    groep_min: Mapped[int] = mapped_column(Integer)
    groep_max: Mapped[int] = mapped_column(Integer)
    pupils: Mapped[int] = mapped_column(Integer)
    adults: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # outcome of the allocation
    outcome: Mapped[Optional[str]] = mapped_column(String(20))  # granted, waitlisted, refused
    granted_rank: Mapped[Optional[int]] = mapped_column(Integer)  # rank of the granted wish
    explanation: Mapped[str] = mapped_column(Text, default="")  # legacy English text; no longer written
    # what happened and why, as a code plus its parameters (rank, rule, lottery number …), rendered in
    # the reader's language by app.booking.rounds.describe_outcome
    outcome_code: Mapped[Optional[str]] = mapped_column(String(40))
    outcome_params: Mapped[Optional[dict]] = mapped_column(JSON)
    priority: Mapped[Optional[float]] = mapped_column(Float)

    round: Mapped[RequestRound] = relationship(back_populates="requests")
    school: Mapped[School] = relationship()
    wishes: Mapped[list["RoundWish"]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RoundWish.rank"
    )


class RoundWish(db.Model):
    """One ranked wish: an offer (any session) or specific sessions (a series: in part order)."""

    __tablename__ = "round_wishes"
    __table_args__ = (UniqueConstraint("request_id", "rank"), CheckConstraint("rank >= 1", name="rank_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("round_requests.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    session_ids: Mapped[Optional[list]] = mapped_column(JSON)

    request: Mapped[RoundRequest] = relationship(back_populates="wishes")
    offer: Mapped[Offer] = relationship()
