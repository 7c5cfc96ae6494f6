"""API: the fairness rules in force for the caller's region."""

from __future__ import annotations

from pydantic import Field

from app.api import api_user, bp, token_required
from app.api.schemas import IsoDateTime, Number, Out, Query, QueryId, SchoolYear, one_of, operation, parse_query, render
from app.booking.fairness import explain, rules_in_force
from app.booking.models import RuleKind, RuleScope
from app.db import utcnow
from app.errors import DomainError
from app.timeutil import school_year_of


class RulesQuery(Query):
    school_year: SchoolYear | None = None


class AdminRulesQuery(RulesQuery):
    """A user without a region of their own (an administrator) names the region."""

    region_id: QueryId | None = Field(None, description="administrators")


class Rule(Out):
    id: int
    type: one_of(k.value for k in RuleKind)
    scope: one_of(s.value for s in RuleScope)
    scope_value: str | None
    limit: int | None
    max_reach_share: Number | None
    window_start: IsoDateTime | None
    window_end: IsoDateTime | None
    release_at: IsoDateTime | None
    description: str
    explanation: str

    @classmethod
    def of(cls, r) -> Rule:
        return cls(
            id=r.id,
            type=r.kind.value,
            scope=r.scope.value,
            scope_value=r.scope_value or None,
            limit=r.max_count,
            max_reach_share=r.max_reach_share,
            window_start=r.window_start,
            window_end=r.window_end,
            release_at=r.window_end if r.kind == RuleKind.PRIORITY_WINDOW else None,
            description=r.description,
            explanation=explain(r),
        )


class RuleList(Out):
    school_year: int
    items: list[Rule]


@bp.get("/rules")
@token_required
@operation(
    "Fairness rules in force for your region (type, scope, limit, window dates)",
    query=AdminRulesQuery,
    response=RuleList,
    problems=(401, 422),
)
def list_rules():
    region_id = api_user().region_id
    q = parse_query(RulesQuery if region_id is not None else AdminRulesQuery)
    region_id = region_id or q.region_id
    if region_id is None:
        raise DomainError("Administrators pass region_id.", code="invalid_parameter", field="region_id")
    year = q.school_year or school_year_of(utcnow())
    return render(RuleList(school_year=year, items=[Rule.of(r) for r in rules_in_force(region_id, year)]))
