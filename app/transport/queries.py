"""Read queries of the transport pages (the views build none themselves)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.labs.models import Venue
from app.schools.models import School
from app.transport.models import BusType


def active_bus_types(region_id: int | None) -> list[BusType]:
    """The bus types in use, largest first: of a region, or of every region (an administrator's view)."""
    stmt = select(BusType).where(BusType.active.is_(True))
    if region_id is not None:
        stmt = stmt.where(BusType.region_id == region_id)
    return db.session.scalars(stmt.order_by(BusType.seats.desc())).all()


def region_venues(region_id: int) -> list[Venue]:
    return db.session.scalars(select(Venue).where(Venue.region_id == region_id).order_by(Venue.name)).all()


def region_school(region_id: int, location_code: str) -> School | None:
    """A school of the region by its location code (as typed: spaces and case do not matter)."""
    code = (location_code or "").strip().upper()
    return db.session.scalar(select(School).where(School.region_id == region_id, School.location_code == code))
