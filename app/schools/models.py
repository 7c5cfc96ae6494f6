"""Schools (DUO locations), enrolment per school year and groep, school holidays."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import HolidayRegion, Region
from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


class SchoolKind(str, enum.Enum):
    BO = "bo"  # regular primary school
    SBO = "sbo"  # special primary education
    SO = "so"  # special education
    VSO = "vso"  # secondary special education


class CoordSource(str, enum.Enum):
    FILE = "file"
    PC4 = "pc4"
    MANUAL = "manual"


class School(db.Model):
    """A primary-school location from the DUO register."""

    __tablename__ = "schools"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
        Index("ix_schools_region_id_name", "region_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # DUO: INSTELLINGSCODE (BRIN, 4 chars) and VESTIGINGSCODE (BRIN + 2 digits)
    brin: Mapped[str] = mapped_column(String(4), index=True)
    location_code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SchoolKind] = mapped_column(str_enum(SchoolKind, "school_kind"), default=SchoolKind.BO)
    region_id: Mapped[Optional[int]] = mapped_column(ForeignKey("regions.id"), index=True)
    street: Mapped[str] = mapped_column(String(200), default="")
    house_number: Mapped[str] = mapped_column(String(20), default="")
    postcode: Mapped[str] = mapped_column(String(7), default="", index=True)
    city: Mapped[str] = mapped_column(String(100), default="")
    municipality_code: Mapped[str] = mapped_column(String(4), default="", index=True)
    municipality_name: Mapped[str] = mapped_column(String(100), default="")
    province: Mapped[str] = mapped_column(String(50), default="")
    denomination: Mapped[str] = mapped_column(String(100), default="")
    authority_number: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    corop_code: Mapped[str] = mapped_column(String(4), default="", index=True)
    corop_name: Mapped[str] = mapped_column(String(100), default="")
    nodal_code: Mapped[str] = mapped_column(String(4), default="")
    nodal_name: Mapped[str] = mapped_column(String(100), default="")
    holiday_region: Mapped[Optional[HolidayRegion]] = mapped_column(str_enum(HolidayRegion, "school_holiday_region"))
    latitude: Mapped[Optional[float]] = mapped_column(Float)
    longitude: Mapped[Optional[float]] = mapped_column(Float)
    coord_source: Mapped[Optional[CoordSource]] = mapped_column(str_enum(CoordSource, "coord_source"))
    # CBS school weight (onderwijsachterstanden), optional input to fair allocation
    cbs_weight: Mapped[Optional[float]] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region: Mapped[Optional[Region]] = relationship()

    @property
    def is_special_education(self) -> bool:
        return self.kind != SchoolKind.BO

    @property
    def address(self) -> str:
        return f"{self.street} {self.house_number}, {self.postcode} {self.city}".strip(", ")

    def __repr__(self) -> str:
        return f"<School {self.location_code} {self.name}>"


class SchoolYearCount(db.Model):
    """Total pupils of a school location in a school year (DUO peildatum 1 October)."""

    __tablename__ = "school_year_counts"
    __table_args__ = (
        UniqueConstraint("school_id", "school_year"),
        CheckConstraint("pupils >= 0", name="pupils_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    school_year: Mapped[int] = mapped_column(Integer)  # start year: 2025 = 2025/26
    pupils: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(100), default="")


class GroepEnrolment(db.Model):
    """Pupils enrolled per groep (1–8) in a school year; estimated when split evenly."""

    __tablename__ = "groep_enrolments"
    __table_args__ = (
        UniqueConstraint("school_id", "school_year", "groep"),
        CheckConstraint("groep BETWEEN 1 AND 8", name="groep_range"),
        CheckConstraint("pupils >= 0", name="pupils_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    school_year: Mapped[int] = mapped_column(Integer)
    groep: Mapped[int] = mapped_column(Integer)
    pupils: Mapped[int] = mapped_column(Integer)
    estimated: Mapped[bool] = mapped_column(default=False)


class HolidayPeriod(db.Model):
    """School holidays of a holiday region (noord/midden/zuid) in a school year."""

    __tablename__ = "holiday_periods"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        UniqueConstraint("holiday_region", "school_year", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    holiday_region: Mapped[HolidayRegion] = mapped_column(str_enum(HolidayRegion, "holiday_period_region"))
    school_year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class SchoolRegion(db.Model):
    """A school's membership of a region over school years (a dated history).

    ``valid_from`` and ``valid_to`` are school years (start year, 2025 = 2025/26); the
    membership holds for ``valid_from <= year < valid_to``; ``None`` is open (since always,
    until further notice). A school without rows is in ``School.region_id`` in every year;
    ``School.region_id`` is always the region of the running school year. Reach for a school
    year reads the membership of that year (app.schools.membership.region_in_year).
    """

    __tablename__ = "school_regions"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from", name="valid_range"),
        Index("ix_school_regions_school_id_valid_from", "school_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    region_id: Mapped[Optional[int]] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[Optional[int]] = mapped_column(Integer)
    valid_to: Mapped[Optional[int]] = mapped_column(Integer)


class RegionChange(db.Model):
    """One reassignment of schools (by municipality, nodal or COROP area) to a region, with
    what it changed (memberships, the schools' and their teachers' regions before) so that
    it can be undone exactly."""

    __tablename__ = "region_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[Optional[int]] = mapped_column(ForeignKey("regions.id", ondelete="SET NULL"))
    area: Mapped[str] = mapped_column(String(20))
    codes: Mapped[str] = mapped_column(String(5000))
    from_year: Mapped[int] = mapped_column(Integer)
    schools: Mapped[int] = mapped_column(Integer, default=0)
    teachers: Mapped[int] = mapped_column(Integer, default=0)
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    region: Mapped[Optional[Region]] = relationship()


class SchoolClass(db.Model):
    """A class of a school in a school year, kept by the school coordinator: its name (7A),
    groep (7, or 7/8 for a combined class) and number of pupils. Counts only, never names.
    The booking form offers these; picking one fills the booking's class name, groep and pupils."""

    __tablename__ = "school_classes"
    __table_args__ = (
        UniqueConstraint("school_id", "school_year", "name"),
        CheckConstraint("groep_min BETWEEN 1 AND 8 AND groep_max BETWEEN 1 AND 8", name="groep_range"),
        CheckConstraint("groep_min <= groep_max", name="groep_order"),
        CheckConstraint("pupils BETWEEN 1 AND 40", name="pupils_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    school_year: Mapped[int] = mapped_column(Integer)  # start year: 2025 = 2025/26
    name: Mapped[str] = mapped_column(String(40))
    groep_min: Mapped[int] = mapped_column(Integer)
    groep_max: Mapped[int] = mapped_column(Integer)
    pupils: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship()

    @property
    def groep(self) -> str:
        """As the booking form names it: "7", or "7/8" for a combined class."""
        return str(self.groep_min) if self.groep_min == self.groep_max else f"{self.groep_min}/{self.groep_max}"

    @property
    def region_id(self) -> int | None:  # region isolation (permissions.region_id_of)
        return self.school.region_id
