"""API: the bus plans of a day (coordinators and administrators of the region)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field, WithJsonSchema

from app.api import api_user, bp, token_required
from app.api.catalogue import VenueRef
from app.api.schemas import IsoDateTime, Number, Out, Query, QueryId, one_of, operation, parse_query, render
from app.auth import permissions
from app.auth.models import Region
from app.errors import DomainError, PermissionDeniedError
from app.extensions import db
from app.inputs import MAX_DATE, MIN_DATE, parse_date
from app.transport import warnings
from app.transport.models import PlanStatus
from app.transport.plans import plans_on
from app.transport.shortfall import hires_on

DATE_MESSAGE = f"date must be a date as YYYY-MM-DD in the years {MIN_DATE.year}-{MAX_DATE.year}."


def _day(raw):
    if isinstance(raw, dt.date):
        return raw
    try:
        return parse_date(raw)
    except (TypeError, ValueError):
        raise DomainError(DATE_MESSAGE, code="invalid_parameter", field="date") from None


class PlansQuery(Query):
    messages: ClassVar[dict[str, str]] = {"date": DATE_MESSAGE}
    date: Annotated[dt.date, BeforeValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]
    region: QueryId | None = Field(None, description="administrators only")


class BusTypeRef(Out):
    id: int
    name: str
    carrier: str


class StopSchool(Out):
    id: int
    name: str
    location_code: str
    address: str


class BusStop(Out):
    position: int
    booking_id: int
    session_id: int = Field(description="the session of the class (a shared bus serves several)")
    school: StopSchool
    pickup_at: IsoDateTime | None
    seats: int = Field(description="seats this class takes in this bus (pupils and adults)")

    @classmethod
    def of(cls, s) -> BusStop:
        school = s.booking.school
        return cls(
            position=s.position,
            booking_id=s.booking_id,
            session_id=s.booking.session_id,
            school=StopSchool(
                id=school.id, name=school.name, location_code=school.location_code, address=school.address
            ),
            pickup_at=s.pickup_at,
            seats=s.seats,
        )


class Bus(Out):
    id: int
    plan_id: int = Field(description="the plan the bus belongs to (ordered with)")
    session_ids: list[int] = Field(description="the sessions whose classes ride the bus")
    shared: bool = Field(
        description="the bus carries classes of several sessions of one trip (the same start and end, at one venue "
        "or venues within the region's detour); it is listed under each of their plans and counted in its own "
        "plan's cost"
    )
    type: BusTypeRef
    seats: int
    seats_taken: int
    locked: bool
    hired: bool = Field(description="an extra bus hired for the day, at the type's hire price")
    arrives_at: IsoDateTime | None
    departs_back_at: IsoDateTime | None
    km: Number = Field(description="there and back")
    cost: Number
    stops: list[BusStop] = Field(description="in route order")

    @classmethod
    def of(cls, bus) -> Bus:
        bt = bus.bus_type
        return cls(
            id=bus.id,
            plan_id=bus.plan_id,
            session_ids=bus.session_ids,
            shared=bus.shared,
            type=BusTypeRef(id=bt.id, name=bt.name, carrier=bt.carrier),
            seats=bt.seats,
            seats_taken=sum(s.seats for s in bus.stops),
            locked=bus.locked,
            hired=bus.hired,
            arrives_at=bus.arrives_at,
            departs_back_at=bus.departs_back_at,
            km=bus.km,
            cost=bus.cost,
            stops=[BusStop.of(s) for s in bus.stops],
        )


class Choice(Out):
    """For a class without a bus: hire, move_session, ask_school (each with the keys it needs)."""

    code: one_of(("hire", "move_session", "ask_school"))
    text: str
    bus_type_id: int = Field(None, description="hire: the type")
    date: str = Field(None, json_schema_extra={"format": "date"}, description="hire: the day")
    count: int = Field(None, description="hire: the number hired after this choice")
    price: Number = Field(None, description="hire: the price of one hired bus for a trip")
    session_id: int = None
    offer_id: int = None
    plan_id: int = None
    booking_id: int | None = None
    email: str = None


WARNING_CODES = (
    "ride_over_limit",
    "no_bus",
    "no_coordinates",
    "implausible_coordinates",
    "pin_breaks_rule",
    "greedy",
    "pickup_moved",
    "locked_over_fleet",
    "locked_over_seats",
)


class BusPlanWarning(Out):
    code: one_of(WARNING_CODES)
    text: str
    booking_id: int = None
    school: str = None
    minutes: Number = None
    seats: int = None
    choices: list[Choice] = Field(None, description="for a class without a bus: hire, move_session, ask_school")

    @classmethod
    def of(cls, w: dict) -> BusPlanWarning:
        return cls(**{k: w[k] for k in cls.model_fields if k in w})


class OfferRef(Out):
    id: int
    title: str


class BusPlan(Out):
    id: int
    session_id: int
    offer: OfferRef
    venue: VenueRef | None
    starts_at: IsoDateTime
    status: one_of(s.value for s in PlanStatus)
    needs_review: bool
    planned_at: IsoDateTime | None
    frozen_at: IsoDateTime | None
    total_km: Number
    total_cost: Number
    warnings_seen: bool = Field(description="the coordinator marked the warnings as seen")
    to_check: bool = Field(description="unseen warnings, or changes after the order")
    warnings: list[BusPlanWarning]
    buses: list[Bus] = Field(description="the plan's own buses, then shared buses of other plans carrying its classes")

    @classmethod
    def of(cls, plan, warns: list[dict]) -> BusPlan:
        s = plan.session
        return cls(
            id=plan.id,
            session_id=s.id,
            offer=OfferRef(id=s.offer_id, title=s.offer.title),
            venue=VenueRef.of(s.venue),
            starts_at=s.starts_at,
            status=plan.status.value,
            needs_review=plan.needs_review,
            planned_at=plan.planned_at,
            frozen_at=plan.frozen_at,
            total_km=plan.total_km,
            total_cost=plan.total_cost,
            warnings_seen=not plan.warnings_unseen,
            to_check=plan.warnings_unseen or plan.needs_review,
            warnings=[BusPlanWarning.of(w) for w in warns],
            buses=[Bus.of(b) for b in getattr(plan, "serving", plan.buses)],
        )


class Hire(Out):
    bus_type_id: int
    name: str
    count: int


class Shortfall(Out):
    plan_id: int
    booking_id: int | None
    seats: int | None


class BusPlans(Out):
    date: dt.date
    region_id: int | None
    hired: list[Hire] = Field(description="extra buses hired for the day")
    shortfall: list[Shortfall] = Field(description="classes without a bus (the fleet is used up)")
    plans: list[BusPlan]

    @classmethod
    def of(cls, day: dt.date, region_id: int | None) -> BusPlans:
        plans = plans_on(region_id, day)
        described = warnings.describe(plans)
        return cls(
            date=day,
            region_id=region_id,
            hired=[
                Hire(bus_type_id=h.bus_type_id, name=h.bus_type.name, count=h.count) for h in hires_on(region_id, day)
            ],
            shortfall=[
                Shortfall(plan_id=p.id, booking_id=w.get("booking_id"), seats=w.get("seats"))
                for p in plans
                for w in (p.warnings or [])
                if w.get("code") == "no_bus"
            ],
            plans=[BusPlan.of(p, described[p.id]) for p in plans],
        )


def _region_id(user, q: PlansQuery) -> int | None:
    """An administrator's ?region= (or all); a coordinator's own region, if they plan its buses."""
    if permissions.is_admin(user):
        return q.region
    region = db.session.get(Region, user.region_id) if user.region_id else None
    if region is None or not permissions.can_plan_transport(user, region):
        raise PermissionDeniedError("Bus plans are for the region's coordinators and administrators.")
    return region.id


@bp.get("/transport/plans")
@token_required
@operation(
    "The bus plans of a day: per bus its type, seats, stops in order (school, pickup time, seats) and arrival",
    query=PlansQuery,
    response=BusPlans,
    problems=(401, 403, 422),
)
def transport_plans():
    q = parse_query(PlansQuery)
    return render(BusPlans.of(q.date, _region_id(api_user(), q)))
