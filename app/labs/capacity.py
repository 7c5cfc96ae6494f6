"""Capacity of a session, counted in pupils and in classes: one rule, used everywhere.

The catalogue, the booking service (on the locked row) and the API all ask these
functions; nobody else compares bookings with capacity.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Places:
    pupils: int
    classes: int

    @property
    def any(self) -> bool:
        return self.pupils > 0 and self.classes > 0


def places_left(session) -> Places:
    return Places(
        max(0, session.capacity_pupils - session.booked_pupils),
        max(0, session.capacity_classes - session.booked_classes),
    )


def fits(session, pupils: int, classes: int = 1) -> bool:
    """Whether a class of `pupils` fits in what is left of the session."""
    left = places_left(session)
    return pupils <= left.pupils and classes <= left.classes


def class_room(session) -> int:
    """The largest class that can still book the session: the pupils left while a class place
    is left, else 0. Pages show this one figure (never "17 leerlingen, 0 klassen")."""
    left = places_left(session)
    return left.pupils if left.classes > 0 else 0
