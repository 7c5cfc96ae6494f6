"""Regions, users, roles and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Column, Float, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.labs.models import Venue
    from app.schools.models import School


class HolidayRegion(str, enum.Enum):
    NOORD = "noord"
    MIDDEN = "midden"
    ZUID = "zuid"


class Role(str, enum.Enum):
    TEACHER = "teacher"
    COORDINATOR = "coordinator"
    PROGRAMME_LEADER = "programme_leader"
    ADMIN = "admin"
    # the school's own ICC/W&T coordinator: manages the school's teachers, classes and bookings
    SCHOOL_COORDINATOR = "school_coordinator"


class Region(db.Model):
    """A regional technology-education network (STO-regio)."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("bus_threshold_km > 0", name="bus_threshold_positive"),
        CheckConstraint("road_factor >= 1", name="road_factor_at_least_one"),
        CheckConstraint("classes_per_school_session >= 1", name="classes_per_school_session_positive"),
        CheckConstraint("offer_hours >= 1", name="offer_hours_positive"),
        CheckConstraint("bus_share_detour_minutes >= 0", name="bus_share_detour_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    holiday_region: Mapped[HolidayRegion] = mapped_column(str_enum(HolidayRegion, "holiday_region"))
    bus_threshold_km: Mapped[float] = mapped_column(Float, default=6.0)
    road_factor: Mapped[float] = mapped_column(Float, default=1.3)
    # the price of hiring an extra bus for a day when the contract's fleet is used up (None: not offered)
    bus_hire_price: Mapped[Optional[float]] = mapped_column(Float)
    # classes of sessions with the same start and end at venues this close (minutes' drive between
    # them; 0: the same venue only) may share a bus that drops them at both
    bus_share_detour_minutes: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    # ask teachers for optional aggregate counts of girls and boys per booking
    collect_gender_counts: Mapped[bool] = mapped_column(default=False)
    # admission: how many classes of one school may book the same session; how long a class has to
    # accept a place offered from the waiting list inside the cancellation deadline
    classes_per_school_session: Mapped[int] = mapped_column(Integer, default=1)
    offer_hours: Mapped[int] = mapped_column(Integer, default=48)
    # sign-in: teachers (school accounts) of this region sign in only through an OpenID provider
    password_login_off: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Region {self.code}>"


coordinator_venues = Table(
    "coordinator_venues",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("venue_id", ForeignKey("venues.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role = 'admin' OR region_id IS NOT NULL", name="region_unless_admin"),
        CheckConstraint("role != 'teacher' OR school_id IS NOT NULL", name="teacher_has_school"),
        CheckConstraint("role != 'school_coordinator' OR school_id IS NOT NULL", name="school_coordinator_has_school"),
        CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[Optional[str]] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    region_id: Mapped[Optional[int]] = mapped_column(ForeignKey("regions.id"), index=True)
    school_id: Mapped[Optional[int]] = mapped_column(ForeignKey("schools.id"), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    active: Mapped[bool] = mapped_column(default=True)
    # secret of the private calendar feed URL; regenerate to revoke
    calendar_token: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # part of the sign-in session's id: raising it signs out every other session
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    region: Mapped[Optional[Region]] = relationship()
    school: Mapped[Optional["School"]] = relationship()
    venues: Mapped[list["Venue"]] = relationship(secondary=coordinator_venues)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def get_id(self) -> str:
        """Flask-Login: the session (and remember cookie) carry "<id>:<version>:<sign-in session id>".

        The sign-in session id is set by ``auth.services.start_session`` (at sign-in) and by the
        user loader; it names a ``LoginSession`` row that signing out ends on the server."""
        sid = getattr(self, "_session_id", None)
        return f"{self.id}:{self.session_version or 0}" + (f":{sid}" if sid else "")

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; it is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginSession(db.Model):
    """One sign-in (a browser session): signing out ends it here, so a copied cookie stops working.

    Only the SHA-256 of the random id the cookie carries is stored. A new password or a
    deactivated account ends every session of the account (and the session version too)."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class LoginAttempt(db.Model):
    """Failed sign-in attempts, per account and per client address, for throttling."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))  # "email:…" or "ip:…"
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TokenPurpose(str, enum.Enum):
    PASSWORD = "password"  # a password reset or invitation link: choose a password
    LOGIN = "login"  # a sign-in link mailed on request (no password)


class PasswordResetToken(db.Model):
    """A link mailed to an account (password reset, invitation, sign-in): only the SHA-256 of
    its secret is stored; single use, expiring. ``purpose`` says which page takes it."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    purpose: Mapped[TokenPurpose] = mapped_column(
        str_enum(TokenPurpose, "token_purpose"),
        default=TokenPurpose.PASSWORD,
        server_default=TokenPurpose.PASSWORD.value,
    )

    user: Mapped[User] = relationship()
