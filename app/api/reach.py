"""API: reach per school year for programme leaders, coordinators and administrators."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from app.api import api_user, bp, token_required
from app.api.schemas import Number, Out, Query, QueryId, SchoolYear, one_of, operation, parse_query, render
from app.auth import permissions
from app.db import utcnow
from app.errors import PermissionDeniedError
from app.labs.models import World
from app.reporting.reach import (
    DEFAULT_GROEPEN,
    GROUPINGS,
    HEADLINE_GROEPEN,
    Filters,
    grouped,
    headline,
    school_rows,
    summary,
)
from app.timeutil import school_year_of


class ReachQuery(Query):
    messages: ClassVar[dict[str, str]] = {"world": "world must be one of the seven worlds."}
    school_year: SchoolYear | None = None
    region: QueryId | None = None
    group_by: one_of(GROUPINGS) = "school"
    municipality: str = ""
    offer: QueryId | None = None
    world: World | None = None
    groepen: one_of(HEADLINE_GROEPEN) = DEFAULT_GROEPEN
    venue: QueryId | None = None


class SeriesCompletion(Out):
    series: int
    part1: int
    parts12: int
    all3: int


class TransportReach(Out):
    classes_bussed: int
    classes_bussed_done: int
    classes_bussed_planned: int
    buses: int
    km: Number


class ReachSummary(Out):
    schools: int
    schools_reached: int
    schools_booked_not_visited: int
    schools_not_reached: int
    sessions_held: int
    classes: int
    pupils: int
    attended: int
    no_show: int
    series: SeriesCompletion
    transport: TransportReach
    girls: int
    boys: int

    @classmethod
    def of(cls, sm) -> ReachSummary:
        return cls(
            schools=sm.schools,
            schools_reached=sm.schools_reached,
            schools_booked_not_visited=sm.schools_booked_not_visited,
            schools_not_reached=sm.schools_not_reached,
            sessions_held=sm.sessions_held,
            classes=sm.classes_served,
            pupils=sm.pupils_served,
            attended=sm.bookings_attended,
            no_show=sm.bookings_no_show,
            series=sm.series,
            transport=sm.transport,
            girls=sm.girls,
            boys=sm.boys,
        )


class Headline(Out):
    """The share of the region's schools reached (attended), and within those schools the share of the
    pupils of the chosen groepen reached, against enrolment (reached schools without enrolment data left out)."""

    groepen: one_of(HEADLINE_GROEPEN)
    groep_min: int
    groep_max: int
    schools: int
    schools_reached: int
    share_schools: Number | None
    pupils_reached: int
    pupils_enrolled: int
    share_pupils: Number | None
    schools_without_enrolment: int


class SchoolReach(Out):
    key: str = Field(description="the school's location code")
    name: str
    classes: int
    pupils: int
    enrolled: int | None
    estimated: bool
    share: Number | None
    worlds: list[str]
    distance_km: Number | None


class GroepReach(Out):
    key: str = Field(description="the groep")
    pupils: int
    enrolled: int
    share: Number | None


class MunicipalityReach(Out):
    key: str = Field(description="the municipality's code")
    name: str
    schools: int
    schools_reached: int
    pupils: int


class WorldReach(Out):
    key: one_of(w.value for w in World)
    schools: int


GROUP_MODELS = {"school": SchoolReach, "groep": GroepReach, "municipality": MunicipalityReach, "world": WorldReach}


class Reach(Out):
    school_year: int
    region_id: int | None
    group_by: one_of(GROUPINGS)
    summary: ReachSummary
    headline: Headline
    groups: list[SchoolReach | GroepReach | MunicipalityReach | WorldReach]

    @classmethod
    def of(cls, f: Filters, q: ReachQuery) -> Reach:
        rows = school_rows(f)
        sm = summary(f, rows)
        group = GROUP_MODELS[q.group_by]
        return cls(
            school_year=f.school_year,
            region_id=f.region_id,
            group_by=q.group_by,
            summary=ReachSummary.of(sm),
            headline=headline(rows, q.groepen),
            groups=[group(**g) for g in grouped(rows, sm, q.group_by)],
        )


@bp.get("/reach")
@token_required
@operation(
    "Reach per school year, grouped by school, groep, municipality or world",
    query=ReachQuery,
    response=Reach,
    problems=(401, 403, 422),
)
def reach():
    user = api_user()
    if not (permissions.is_programme_leader(user) or permissions.is_coordinator(user) or permissions.is_admin(user)):
        raise PermissionDeniedError("Reach figures are for programme leaders, coordinators and administrators.")
    q = parse_query(ReachQuery)
    region_id = q.region if permissions.is_admin(user) else user.region_id
    year = q.school_year or school_year_of(utcnow())
    return render(Reach.of(Filters(year, region_id, q.municipality[:4], q.offer, q.world, q.venue), q))
