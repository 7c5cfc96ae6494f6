"""A school's region in a school year: the dated membership (school_regions), read in SQL.

A school without membership rows is in ``School.region_id`` in every year (schools that were
never reassigned: the common case, and the fast one). Reassignments write rows (see
app.admin.services.assign_schools_to_region); reach for a past school year then uses the
region the school was in that year.
"""

from __future__ import annotations

from sqlalchemy import and_, case, exists, or_, select

from app.schools.models import School, SchoolRegion


def covers(year: int):
    return and_(
        or_(SchoolRegion.valid_from.is_(None), SchoolRegion.valid_from <= year),
        or_(SchoolRegion.valid_to.is_(None), SchoolRegion.valid_to > year),
    )


def region_in_year(year: int):
    """A SQL expression: the id of ``School``'s region in school year ``year`` (or NULL)."""
    dated = (
        select(SchoolRegion.region_id)
        .where(SchoolRegion.school_id == School.id, covers(year))
        .order_by(SchoolRegion.valid_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    has_history = exists().where(SchoolRegion.school_id == School.id)
    return case((has_history, dated), else_=School.region_id)
