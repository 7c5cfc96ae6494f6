"""Typed errors of the transport area, one hierarchy under TransportError (codes are stable
for the API; the status comes from the general kind in app.errors)."""

from __future__ import annotations

from app.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError


class TransportError(DomainError):
    code = "transport_invalid"


class PlanNotFound(TransportError, NotFoundError):
    code = "not_found"


class PlanningNotAllowed(TransportError, PermissionDeniedError):
    code = "forbidden"


class BusFull(TransportError, ConflictError):
    code = "bus_full"


class BusLocked(TransportError, ConflictError):
    code = "bus_locked"
