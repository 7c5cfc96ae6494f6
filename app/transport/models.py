"""Bus contracts, known road distances, and bus plans per session."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.booking.models import Booking
    from app.labs.models import Session


class BusType(db.Model):
    """A bus of a region's contract: seats and cost."""

    __tablename__ = "bus_types"
    __table_args__ = (
        CheckConstraint("seats > 0", name="seats_positive"),
        CheckConstraint("cost_per_trip >= 0 AND cost_per_km >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    carrier: Mapped[str] = mapped_column(String(200), default="")
    seats: Mapped[int] = mapped_column(Integer)
    cost_per_trip: Mapped[float] = mapped_column(Float, default=0.0)
    cost_per_km: Mapped[float] = mapped_column(Float, default=0.0)
    available: Mapped[int] = mapped_column(Integer, default=10)  # buses of this type per day
    active: Mapped[bool] = mapped_column(default=True)
    # the price of one extra bus of this type for a trip, hired when the fleet is used up (None: the
    # region's bus_hire_price; both None: this type cannot be hired)
    hire_price: Mapped[Optional[float]] = mapped_column(Float)


class BusHire(db.Model):
    """Extra buses of a type hired for one local day of a region, on top of the fleet: the day's
    plan may use them (each at the type's hire price)."""

    __tablename__ = "bus_hires"
    __table_args__ = (
        UniqueConstraint("region_id", "day", "bus_type_id"),
        CheckConstraint("count > 0", name="count_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    day: Mapped[date] = mapped_column(Date)
    bus_type_id: Mapped[int] = mapped_column(ForeignKey("bus_types.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bus_type: Mapped[BusType] = relationship()


class RoadDistance(db.Model):
    """A known road distance between a school and a venue, overriding the estimate."""

    __tablename__ = "road_distances"
    __table_args__ = (UniqueConstraint("school_id", "venue_id"), CheckConstraint("km >= 0", name="km_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    km: Mapped[float] = mapped_column(Float)
    minutes: Mapped[Optional[float]] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(50), default="manual")


class PlanStatus(str, enum.Enum):
    DRAFT = "draft"
    FROZEN = "frozen"


class BusPlan(db.Model):
    """The bus plan of one session; frozen some days before, then ordered."""

    __tablename__ = "bus_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), unique=True)
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus, "plan_status"), default=PlanStatus.DRAFT)
    planned_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    frozen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # set when bookings changed after the freeze: the coordinator must look
    needs_review: Mapped[bool] = mapped_column(default=False)
    review_note: Mapped[str] = mapped_column(Text, default="")  # what changed after the freeze
    # set when re-planning after a change failed: the next job run re-plans
    stale: Mapped[bool] = mapped_column(default=False)
    total_km: Mapped[float] = mapped_column(Float, default=0.0)
    total_cost: Mapped[float] = mapped_column(Float, default=0.0)
    # what the coordinator must see (planning.PlanWarning.as_dict() per item), and the key of the
    # warnings they saw ("ik heb het gezien"): the plan is to be checked while the two differ
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    warnings_seen: Mapped[str] = mapped_column(String(64), default="")

    buses: Mapped[list["Bus"]] = relationship(back_populates="plan", cascade="all, delete-orphan", order_by="Bus.id")
    session: Mapped["Session"] = relationship()

    @property
    def warnings_key(self) -> str:
        import hashlib
        import json

        return (
            hashlib.sha1(json.dumps(self.warnings or [], sort_keys=True).encode()).hexdigest() if self.warnings else ""
        )

    @property
    def warnings_unseen(self) -> bool:
        """Warnings the coordinator has not marked as seen: the plan is to be checked."""
        return bool(self.warnings) and self.warnings_seen != self.warnings_key


class Bus(db.Model):
    __tablename__ = "buses"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("bus_plans.id", ondelete="CASCADE"), index=True)
    bus_type_id: Mapped[int] = mapped_column(ForeignKey("bus_types.id"))
    locked: Mapped[bool] = mapped_column(default=False)  # kept as is by re-planning
    hired: Mapped[bool] = mapped_column(default=False)  # an extra bus hired for the day (BusHire)
    arrives_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    departs_back_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    km: Mapped[float] = mapped_column(Float, default=0.0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)

    plan: Mapped[BusPlan] = relationship(back_populates="buses")
    bus_type: Mapped["BusType"] = relationship()
    stops: Mapped[list["BusStop"]] = relationship(
        back_populates="bus", cascade="all, delete-orphan", order_by="BusStop.position"
    )

    @property
    def session_ids(self) -> list[int]:
        """The sessions whose classes ride this bus: more than one for a bus shared by sessions of a
        trip (the same venue, start and end); the bus belongs to one plan and serves them all."""
        return sorted({st.booking.session_id for st in self.stops})

    @property
    def shared(self) -> bool:
        return len(self.session_ids) > 1


class BusStop(db.Model):
    __tablename__ = "bus_stops"
    # a class larger than the largest bus has a stop on each of its buses
    __table_args__ = (
        UniqueConstraint("bus_id", "booking_id"),
        CheckConstraint("seats > 0", name="seats_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bus_id: Mapped[int] = mapped_column(ForeignKey("buses.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    pickup_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    seats: Mapped[int] = mapped_column(Integer)
    pinned: Mapped[bool] = mapped_column(default=False)  # moved by hand to this bus
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bus: Mapped[Bus] = relationship(back_populates="stops")
    booking: Mapped["Booking"] = relationship()


class PickupNotice(db.Model):
    """The pickup time a school was told (page, mail, calendar): re-planning holds it within a
    few minutes unless the coordinator accepts a change."""

    __tablename__ = "pickup_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    pickup_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
