"""Typed booking errors: a stable code for the API, a Dutch message that says what to do."""

from __future__ import annotations

from app.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError


class BookingError(DomainError):
    code = "booking_refused"


class InvalidInput(BookingError):
    code = "invalid_input"


class SessionFull(BookingError, ConflictError):
    status = 409
    code = "full"


class AlreadyBooked(BookingError, ConflictError):
    status = 409
    code = "already_booked"


class Refused(BookingError):
    """A rule refuses: the code names the rule (groep_not_targeted, session_past, …)."""


class BookingNotFound(BookingError, NotFoundError):
    status = 404
    code = "not_found"


class NotAllowed(BookingError, PermissionDeniedError):
    status = 403
    code = "forbidden"
