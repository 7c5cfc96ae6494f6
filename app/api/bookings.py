"""API: bookings and series bookings of the token holder."""

from __future__ import annotations

from typing import Annotated, ClassVar

from flask import abort, url_for
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema, model_validator
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import api_user, bp, token_required
from app.api.catalogue import VenueRef
from app.api.schemas import (
    Body,
    Id,
    IsoDateTime,
    Out,
    PageQuery,
    Text,
    WholeNumber,
    json_body,
    one_of,
    operation,
    page_of,
    paginate,
    parse_body,
    parse_query,
    render,
    whole,
)
from app.auth import permissions
from app.booking import models, services
from app.booking.errors import InvalidInput
from app.booking.models import BookingStatus
from app.errors import PermissionDeniedError
from app.extensions import db
from app.inputs import clean_name, email_problem, header_problem
from app.scoping import session_scope
from app.labs.models import Offer, Session

# ------------------------------------------------------------------ shapes


class Waiting(Out):
    """For a waiting class: its place in the promotion order, the rule that holds it back and until when."""

    position: int | None
    rule: str
    message: str
    until: str | None
    rule_id: int | None

    @classmethod
    def of(cls, b: models.Booking) -> Waiting | None:
        if b.status != BookingStatus.WAITLISTED:
            return None
        from app.booking.admission import waiting_info
        from app.db import utcnow

        return cls(**waiting_info(b, utcnow()).as_json())


class Booking(Out):
    id: int
    status: one_of(s.value for s in BookingStatus) = Field(
        description="requested: on an offer with approval required, waiting for the coordinator (the place is held)"
    )
    session_id: int
    offer_id: int
    series_id: int | None
    part: int | None
    school_id: int
    groep: str
    pupils: int
    adults: int
    contact_name: str
    contact_email: str
    remarks: str
    starts_at: IsoDateTime
    ends_at: IsoDateTime
    venue: VenueRef | None
    title: str
    created_at: IsoDateTime
    cancelled_at: IsoDateTime | None
    sequence: int
    class_name: str
    offer_expires_at: IsoDateTime | None
    waiting: Waiting | None

    @classmethod
    def of(cls, b: models.Booking) -> Booking:
        s = b.session
        return cls(
            id=b.id,
            status=b.status.value,
            session_id=b.session_id,
            offer_id=s.offer_id,
            series_id=b.series_id,
            part=b.part_position,
            school_id=b.school_id,
            groep=b.groep_label,
            pupils=b.pupils,
            adults=b.adults,
            contact_name=b.contact_name,
            contact_email=b.contact_email,
            remarks=b.remarks,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            venue=VenueRef.of(s.venue),
            title=s.offer.title,
            created_at=b.created_at,
            cancelled_at=b.cancelled_at,
            sequence=b.sequence,
            class_name=b.class_name,
            offer_expires_at=b.offer_expires_at,
            waiting=Waiting.of(b),
        )


class SeriesBooking(Out):
    id: int
    offer_id: int
    school_id: int
    status: one_of(s.value for s in BookingStatus)
    bookings: list[Booking]

    @classmethod
    def of(cls, series: models.SeriesBooking) -> SeriesBooking:
        return cls(
            id=series.id,
            offer_id=series.offer_id,
            school_id=series.school_id,
            status=series.status.value,
            bookings=[Booking.of(b) for b in series.bookings],
        )


# ------------------------------------------------------------------ request bodies

GROEP_PATTERN = (
    "^("
    + "|".join(
        [str(g) for g in range(1, 9)]
        + [f"{g}/{g + 1}" for g in range(1, 8)]
        + [f"{g}/{g + 1}/{g + 2}" for g in range(1, 7)]
    )
    + ")$"
)


def _groep(value):
    """7 or "7/8" (the booking service checks which groepen exist)."""
    value = whole(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidInput('groep must be a text like "7" or "7/8".', field="groep")
    return value[:10]


Groep = Annotated[
    str,
    BeforeValidator(_groep),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": 8}, {"type": "string", "pattern": GROEP_PATTERN}],
            "description": '1–8 or a combination of two successive groepen such as "7/8"',
        }
    ),
]


def _one_line_name(value: str, info) -> str:
    """A name that may end up in a mail header: normalised (app.inputs.clean_name), one line."""
    value = clean_name(value)
    if problem := header_problem(value):
        raise InvalidInput(f"{info.field_name} {problem}.", field=info.field_name)
    return value


def _email(value: str, info) -> str:
    """An e-mail address (empty: the token holder's own), exactly one, checked as the forms check it."""
    value = value.strip()
    if value and (problem := email_problem(value)):
        raise InvalidInput(f"{info.field_name} {problem}.", field=info.field_name)
    return value


Name = Annotated[Text(200), AfterValidator(_one_line_name)]
Email = Annotated[Text(254), AfterValidator(_email)]
# the booking service checks the counts against the offer (its own messages): the schema says the bounds
Pupils = Annotated[WholeNumber, Field(json_schema_extra={"minimum": 1, "maximum": services.MAX_PUPILS})]
Adults = Annotated[WholeNumber, Field(json_schema_extra={"minimum": 0, "maximum": services.MAX_ADULTS})]
GirlsOrBoys = Annotated[WholeNumber | None, Field(json_schema_extra={"minimum": 0, "maximum": services.MAX_PUPILS})]
ClassName = Text(40, description='the class\'s name within the school ("7A"); default: its groep')


class ClassFields(Body):
    """The class that books: shared by a booking, a series booking and a change."""

    messages: ClassVar[dict[str, str]] = {
        "session_id:greater_than_equal": "session_id is not an id.",
        "session_id:less_than_equal": "session_id is not an id.",
        "offer_id:greater_than_equal": "offer_id is not an id.",
        "offer_id:less_than_equal": "offer_id is not an id.",
        "session_ids": "session_ids must be a list of session ids in part order.",
        "pupils:missing": "pupils must be a whole number.",
    }
    groep: Groep
    pupils: Pupils
    adults: Adults = 0
    contact_name: Name = ""
    contact_email: Email = ""
    remarks: Text(2000) = ""
    girls: GirlsOrBoys = None
    boys: GirlsOrBoys = None
    class_name: ClassName = ""

    def details(self, user) -> services.ClassDetails:
        return services.ClassDetails(school_id=user.school_id, **self.model_dump(include=set(ClassFields.model_fields)))


class BookingRequest(ClassFields):
    session_id: Id
    waitlist: Annotated[bool, Strict()] = False


class SeriesBookingRequest(ClassFields):
    offer_id: Id
    session_ids: list[Id] = Field(max_length=9, description="one session per part, in part order")


class BookingChange(Body):
    """The fields to change (only those given); until the offer's change_deadline_days before the
    session, through the same admission rules as a new booking."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "additionalProperties": False})
    groep: Groep = None
    class_name: ClassName = None
    pupils: Pupils = None
    adults: Adults = None
    contact_name: Name = None
    contact_email: Email = None
    remarks: Text(2000) = None

    @model_validator(mode="before")
    @classmethod
    def _only_changeable(cls, data):
        if not isinstance(data, dict) or not data:
            raise InvalidInput("Give at least one field to change.", field=None)
        unknown = sorted(set(data) - set(services.CHANGEABLE))
        if unknown:
            raise InvalidInput(
                f"{unknown[0]} cannot be changed; changeable: {', '.join(services.CHANGEABLE)}.", field=unknown[0]
            )
        return data

    def changes(self) -> dict:
        return self.model_dump(include=self.model_fields_set)


class RequestDecline(Body):
    reason: Annotated[str, Strict(), Field(min_length=1, max_length=500, description="the school reads it")]


def _teacher():
    user = api_user()
    if not permissions.is_teacher(user):
        raise PermissionDeniedError("Only a teacher's token can book for their school.")
    return user


# ------------------------------------------------------------------ handlers

BODY_PROBLEMS = (400, 401, 403, 404, 409, 415, 422)
ANSWER_PROBLEMS = (401, 403, 404, 422)


@bp.post("/bookings")
@token_required
@operation(
    "Book a session for your class (201 confirmed or waitlisted; 409 code full when no place; "
    "422 with the rule's code, e.g. priority_window, when a rule holds the class back)",
    body=BookingRequest,
    response=Booking,
    status=201,
    problems=BODY_PROBLEMS,
)
def create_booking():
    data = json_body()
    user = _teacher()
    body = BookingRequest.parse(data)
    booking = services.create_booking(user, body.session_id, body.details(user), waitlist=body.waitlist)
    resp = render(Booking.of(booking), 201)
    resp.headers["Location"] = url_for("api.get_booking", booking_id=booking.id)
    return resp


@bp.post("/series-bookings")
@token_required
@operation(
    "Book all parts of a series at once (all or nothing)",
    body=SeriesBookingRequest,
    response=SeriesBooking,
    status=201,
    problems=BODY_PROBLEMS,
)
def create_series_booking():
    data = json_body()
    user = _teacher()
    body = SeriesBookingRequest.parse(data)
    series = services.create_series_booking(user, body.offer_id, body.session_ids, body.details(user))
    return render(SeriesBooking.of(series), 201)


def _visible_bookings():
    user = api_user()
    stmt = (
        select(models.Booking)
        .join(Session, models.Booking.session_id == Session.id)
        .options(
            selectinload(models.Booking.session).selectinload(Session.offer),
            selectinload(models.Booking.session).selectinload(Session.venue),
        )
    )
    if permissions.is_teacher(user) or permissions.is_school_coordinator(user):
        return stmt.where(models.Booking.school_id == user.school_id)
    return stmt.join(Offer, Session.offer_id == Offer.id).where(*session_scope(user))


@bp.get("/bookings")
@token_required
@operation(
    "Your bookings (teacher: your school; coordinator: your venues)",
    query=PageQuery,
    response=page_of(Booking),
    problems=(401, 422),
)
def list_bookings():
    q = parse_query(PageQuery)
    stmt = _visible_bookings().order_by(Session.starts_at, models.Booking.id)
    return paginate(stmt, q, Booking, lambda rows: [Booking.of(b) for b in rows])


def _booking_or_404(booking_id) -> models.Booking:
    booking = db.session.get(models.Booking, booking_id)
    if booking is None or not permissions.can_view_booking(api_user(), booking):
        abort(404)
    return booking


@bp.get("/bookings/<int:booking_id>")
@token_required
@operation("One booking", response=Booking, problems=(401, 404))
def get_booking(booking_id):
    return render(Booking.of(_booking_or_404(booking_id)))


@bp.delete("/bookings/<int:booking_id>")
@token_required
@operation("Cancel a booking (a series: all parts)", response=Booking, problems=ANSWER_PROBLEMS)
def cancel_booking(booking_id):
    booking = _booking_or_404(booking_id)
    services.cancel_booking(api_user(), booking.id, reason="")
    return render(Booking.of(booking))


@bp.patch("/bookings/<int:booking_id>")
@token_required
@operation(
    "Change the class of a booking (a series: all parts): pupils, adults, contact, remarks, "
    "groep, class name; until the offer's change deadline (422 code change_deadline_passed), "
    "more pupils only if they fit (409 code full)",
    body=BookingChange,
    response=Booking,
    problems=BODY_PROBLEMS,
)
def change_booking(booking_id):
    booking = _booking_or_404(booking_id)
    services.change_booking(api_user(), booking.id, parse_body(BookingChange).changes())
    return render(Booking.of(booking))


def _answer(booking_id: int, action):
    """One answer to a booking's state (approve, reject, accept, decline): the service decides
    (a refusal is a problem and the request's unit of work rolls back), the answer is the
    booking as it is now."""
    booking = _booking_or_404(booking_id)
    action(api_user(), booking.id)
    return render(Booking.of(booking))


@bp.post("/bookings/<int:booking_id>/approve")
@token_required
@operation(
    "Approve a requested booking (coordinator of its session): it is confirmed",
    response=Booking,
    problems=ANSWER_PROBLEMS,
)
def approve_request(booking_id):
    return _answer(booking_id, services.approve_booking)


@bp.post("/bookings/<int:booking_id>/reject")
@token_required
@operation(
    "Decline a requested booking with a reason; the held place goes to the waiting list",
    body=RequestDecline,
    response=Booking,
    problems=(400, 401, 403, 404, 415, 422),
)
def reject_request(booking_id):
    reason = parse_body(RequestDecline).reason
    return _answer(booking_id, lambda actor, bid: services.decline_request(actor, bid, reason))


@bp.post("/bookings/<int:booking_id>/accept")
@token_required
@operation(
    "Accept a place offered from the waiting list (status offered) before offer_expires_at",
    response=Booking,
    problems=ANSWER_PROBLEMS,
)
def accept_offer(booking_id):
    return _answer(booking_id, services.accept_offer)


@bp.post("/bookings/<int:booking_id>/decline")
@token_required
@operation(
    "Decline a place offered from the waiting list; it goes to the next waiting class",
    response=Booking,
    problems=ANSWER_PROBLEMS,
)
def decline_offer(booking_id):
    return _answer(booking_id, services.decline_offer)
