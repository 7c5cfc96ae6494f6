"""Venues, offers (with series parts), sessions and their capacity, staff, kits."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Region
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db
from app.schools.models import School


class VenueKind(str, enum.Enum):
    TECHLAB = "techlab"
    MOBILE_LAB = "mobile_lab"
    HOTSPOT = "hotspot"
    COMPANY = "company"


class World(str, enum.Enum):
    """The seven worlds of technology (werelden van techniek)."""

    MENS_GEZONDHEID = "mens_gezondheid"
    VOEDING_NATUUR = "voeding_natuur"
    ENERGIE_WATER_VEILIGHEID = "energie_water_veiligheid"
    WONEN_WERKEN_VERKEER = "wonen_werken_verkeer"
    ONTWERP_PRODUCTIE_WERELDHANDEL = "ontwerp_productie_wereldhandel"
    DIGITAAL_MEDIA_ENTERTAINMENT = "digitaal_media_entertainment"
    HITECH_SCIENCE = "hitech_science"


class OfferKind(str, enum.Enum):
    WORKSHOP = "workshop"  # a lesson in a techlab
    MASTERCLASS = "masterclass"  # usually a three-part series
    HOTSPOT_VISIT = "hotspot_visit"
    GUEST_LESSON = "guest_lesson"  # at the school itself
    MOBILE_LAB = "mobile_lab"  # the mobile lab visits the school
    EVENT = "event"


class PartLocation(str, enum.Enum):
    """Where a session (or a series part) takes place."""

    VENUE = "venue"  # at the venue: techlab, hotspot, company
    AT_SCHOOL = "at_school"  # at the booking school (visiting teacher, mobile lab)


class SessionStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Venue(db.Model):
    __tablename__ = "venues"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
        UniqueConstraint("region_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    kind: Mapped[VenueKind] = mapped_column(str_enum(VenueKind, "venue_kind"))
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    house_number: Mapped[str] = mapped_column(String(20), default="")
    postcode: Mapped[str] = mapped_column(String(7), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[Optional[float]] = mapped_column(Float)
    longitude: Mapped[Optional[float]] = mapped_column(Float)
    rooms: Mapped[str] = mapped_column(Text, default="")
    accessibility: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    # ISO weekdays the venue is open, e.g. "12345" for Monday to Friday
    opening_days: Mapped[str] = mapped_column(String(7), default="12345")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship()
    closures: Mapped[list["VenueClosure"]] = relationship(
        back_populates="venue", cascade="all, delete-orphan", order_by="VenueClosure.starts_on"
    )

    @property
    def address(self) -> str:
        return f"{self.street} {self.house_number}, {self.postcode} {self.city}".strip(", ")

    def __repr__(self) -> str:
        return f"<Venue {self.name}>"


class VenueClosure(db.Model):
    """Days a venue is closed (blackout days)."""

    __tablename__ = "venue_closures"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    venue: Mapped[Venue] = relationship(back_populates="closures")


class Offer(db.Model):
    """Something a class can book: a workshop, a hotspot visit, a (three-part) masterclass."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("groep_min BETWEEN 1 AND 8 AND groep_max BETWEEN 1 AND 8", name="groep_range"),
        CheckConstraint("groep_min <= groep_max", name="groep_order"),
        CheckConstraint("capacity_pupils > 0 AND capacity_classes > 0", name="capacity_positive"),
        CheckConstraint("adults_per_class >= 0", name="adults_not_negative"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("cancel_deadline_days >= 0", name="cancel_deadline_not_negative"),
        CheckConstraint("booking_horizon_weeks IS NULL OR booking_horizon_weeks >= 1", name="booking_horizon_positive"),
        CheckConstraint("min_notice_days >= 0", name="min_notice_not_negative"),
        CheckConstraint("change_deadline_days >= 0", name="change_deadline_not_negative"),
        Index("ix_offers_region_id_school_year", "region_id", "school_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    # the main venue (for a series: the techlab of part 2); NULL when at the school
    venue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("venues.id"), index=True)
    school_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[OfferKind] = mapped_column(str_enum(OfferKind, "offer_kind"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    world: Mapped[World] = mapped_column(str_enum(World, "world"))
    groep_min: Mapped[int] = mapped_column(Integer)
    groep_max: Mapped[int] = mapped_column(Integer)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    capacity_pupils: Mapped[int] = mapped_column(Integer, default=30)  # default per session
    capacity_classes: Mapped[int] = mapped_column(Integer, default=1)
    adults_per_class: Mapped[int] = mapped_column(Integer, default=2)
    booking_opens_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    booking_closes_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    cancel_deadline_days: Mapped[int] = mapped_column(Integer, default=14)
    # booking horizon: a class books at most this many weeks before the session (NULL: no limit)
    booking_horizon_weeks: Mapped[Optional[int]] = mapped_column(Integer)
    # minimum notice: a class books at least this many days before the session (0: until it starts)
    min_notice_days: Mapped[int] = mapped_column(Integer, default=0)
    # pupils, adults, contact, remarks and the class may change until this many days before
    change_deadline_days: Mapped[int] = mapped_column(Integer, default=0)
    # every booking waits as "aangevraagd" (requested) until the coordinator approves or declines it
    approval_required: Mapped[bool] = mapped_column(default=False)
    preparation: Mapped[str] = mapped_column(Text, default="")  # what the school must prepare
    bus_provided: Mapped[bool] = mapped_column(default=True)
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    copied_from_id: Mapped[Optional[int]] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))

    region: Mapped[Region] = relationship()
    venue: Mapped[Optional[Venue]] = relationship()
    parts: Mapped[list["OfferPart"]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferPart.position"
    )

    @property
    def is_series(self) -> bool:
        return len(self.parts) > 1

    def targets_groep(self, groep_min: int, groep_max: int) -> bool:
        return self.groep_min <= groep_min and groep_max <= self.groep_max

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.title}>"


class OfferPart(db.Model):
    """One part of a series offer; the gap is counted from the previous part."""

    __tablename__ = "offer_parts"
    __table_args__ = (
        UniqueConstraint("offer_id", "position"),
        CheckConstraint("position BETWEEN 1 AND 9", name="position_range"),
        CheckConstraint("min_days_after_previous >= 0", name="min_gap_not_negative"),
        CheckConstraint("max_days_after_previous >= min_days_after_previous", name="gap_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[PartLocation] = mapped_column(str_enum(PartLocation, "part_location"))
    venue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("venues.id"))
    min_days_after_previous: Mapped[int] = mapped_column(Integer, default=0)
    max_days_after_previous: Mapped[int] = mapped_column(Integer, default=60)

    offer: Mapped[Offer] = relationship(back_populates="parts")
    venue: Mapped[Optional[Venue]] = relationship()


session_staff = Table(
    "session_staff",
    db.metadata,
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
)


class Staff(db.Model):
    """A person who gives lessons (lesgevende) in a region's venues."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Session(db.Model):
    """A dated slot of an offer (or of one part of a series) with its capacity.

    ``booked_pupils`` and ``booked_classes`` count confirmed and attended bookings.
    They are changed only by the booking service under a lock, and the CHECK
    constraints make the database refuse any overbooking as a backstop.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity_pupils >= 0 AND capacity_classes >= 0", name="capacity_not_negative"),
        CheckConstraint("booked_pupils >= 0 AND booked_classes >= 0", name="booked_not_negative"),
        CheckConstraint("booked_pupils <= capacity_pupils", name="no_overbooking_pupils"),
        CheckConstraint("booked_classes <= capacity_classes", name="no_overbooking_classes"),
        Index("ix_sessions_offer_id_starts_at", "offer_id", "starts_at"),
        Index("ix_sessions_venue_id_starts_at", "venue_id", "starts_at"),
        Index("ix_sessions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"))
    part_id: Mapped[Optional[int]] = mapped_column(ForeignKey("offer_parts.id", ondelete="CASCADE"), index=True)
    # NULL venue: the session takes place at the booking school
    venue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("venues.id"))
    location: Mapped[PartLocation] = mapped_column(
        str_enum(PartLocation, "session_location"), default=PartLocation.VENUE
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity_pupils: Mapped[int] = mapped_column(Integer)
    capacity_classes: Mapped[int] = mapped_column(Integer)
    booked_pupils: Mapped[int] = mapped_column(Integer, default=0)
    booked_classes: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    attendance_reminded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    offer: Mapped[Offer] = relationship()
    part: Mapped[Optional[OfferPart]] = relationship()
    venue: Mapped[Optional[Venue]] = relationship()
    staff: Mapped[list[Staff]] = relationship(secondary=session_staff)

    @property
    def places_left_pupils(self) -> int:
        return max(0, self.capacity_pupils - self.booked_pupils)

    @property
    def places_left_classes(self) -> int:
        return max(0, self.capacity_classes - self.booked_classes)

    def __repr__(self) -> str:
        return f"<Session {self.id} offer={self.offer_id} {self.starts_at:%Y-%m-%d %H:%M}>"


class Kit(db.Model):
    """A lending kit (leskist) with a stock of identical copies."""

    __tablename__ = "kits"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    venue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("venues.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    world: Mapped[World] = mapped_column(str_enum(World, "kit_world"))
    groep_min: Mapped[int] = mapped_column(Integer, default=1)
    groep_max: Mapped[int] = mapped_column(Integer, default=8)
    stock: Mapped[int] = mapped_column(Integer, default=1)
    loan_days: Mapped[int] = mapped_column(Integer, default=14)
    active: Mapped[bool] = mapped_column(default=True)

    venue: Mapped[Optional[Venue]] = relationship()


class KitLoanStatus(str, enum.Enum):
    RESERVED = "reserved"
    LENT = "lent"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class KitLoan(db.Model):
    __tablename__ = "kit_loans"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_kit_loans_kit_id_starts_on", "kit_id", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kit_id: Mapped[int] = mapped_column(ForeignKey("kits.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    booked_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[KitLoanStatus] = mapped_column(
        str_enum(KitLoanStatus, "kit_loan_status"), default=KitLoanStatus.RESERVED
    )
    returned_on: Mapped[Optional[date]] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kit: Mapped[Kit] = relationship()
    school: Mapped[School] = relationship()
