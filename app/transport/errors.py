"""Typed errors of the transport area (codes are stable for the API)."""
from __future__ import annotations

from app.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError


class TransportError(DomainError):
    code = "transport_invalid"


class PlanNotFound(NotFoundError):
    code = "not_found"


class NotAllowed(PermissionDeniedError):
    code = "forbidden"


class BusFull(ConflictError):
    code = "bus_full"


class BusLocked(ConflictError):
    code = "bus_locked"
