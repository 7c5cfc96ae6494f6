"""Enrolment per groep: real numbers (from the per-age file) or an even split, marked.

Only real per-age numbers are stored (GroepEnrolment); where a school year has only a
total (SchoolYearCount), the groepen are derived here by an even split of the total —
the remainder goes to the lowest groepen — and marked estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.schools.models import GroepEnrolment, SchoolYearCount


@dataclass(frozen=True)
class GroepCount:
    groep: int
    pupils: int
    estimated: bool


def even_split(total: int, groepen: int = 8) -> list[int]:
    base, rest = divmod(max(0, total), groepen)
    return [base + (1 if g < rest else 0) for g in range(groepen)]


def enrolment_by_groep(school_ids: list[int], school_year: int) -> dict[int, list[GroepCount]]:
    """Per school id: eight GroepCounts (groep 1–8); schools without data are absent."""
    result: dict[int, list[GroepCount]] = {}
    if not school_ids:
        return result
    real: dict[int, dict[int, GroepEnrolment]] = {}
    for e in db.session.scalars(
        select(GroepEnrolment).where(
            GroepEnrolment.school_id.in_(school_ids), GroepEnrolment.school_year == school_year
        )
    ):
        real.setdefault(e.school_id, {})[e.groep] = e
    for sid, groepen in real.items():
        result[sid] = [
            GroepCount(g, groepen[g].pupils if g in groepen else 0, groepen[g].estimated if g in groepen else True)
            for g in range(1, 9)
        ]
    for c in db.session.scalars(
        select(SchoolYearCount).where(
            SchoolYearCount.school_id.in_(school_ids), SchoolYearCount.school_year == school_year
        )
    ):
        if c.school_id not in result:
            result[c.school_id] = [GroepCount(g, n, True) for g, n in enumerate(even_split(c.pupils), start=1)]
    return result
