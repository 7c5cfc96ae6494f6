"""Mails about bookings, queued to be sent after the commit (see app.mail).

The booking service calls these at each state change. Each mail is in Dutch (or the
recipient's language), with the booking's .ics attached.
"""
from __future__ import annotations


def booking_confirmed(booking) -> None:
    """A booking (or a series part) was confirmed."""


def booking_waitlisted(booking) -> None:
    """A booking was put on a session's waiting list."""


def booking_promoted(booking) -> None:
    """A waiting class got a place."""


def booking_changed(booking) -> None:
    """A booking was moved or changed (new time, new session, new numbers)."""


def booking_cancelled(booking) -> None:
    """A booking was cancelled (by the teacher, a coordinator, or with its session)."""


def series_confirmed(series) -> None:
    """All parts of a series booking were confirmed."""
