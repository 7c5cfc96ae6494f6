"""Who gets a bus: the one place for the rule (catalogue, booking pages, planning)."""

from __future__ import annotations


def needs_bus(
    distance_km: float | None,
    threshold_km: float | None,
    *,
    bus_provided: bool = True,
    at_school: bool = False,
    declined: bool = False,
) -> bool:
    """A class needs a bus when its school is farther than the region's threshold from the venue.

    ``distance_km`` is the road distance (a known one, else great-circle × the region's
    road factor). Exactly at the threshold is not farther. No bus when the session is at
    the school itself (part 1 of a series, the mobile lab), when the offer provides no
    bus, or when the school declined it (own transport).
    """
    if at_school or declined or not bus_provided:
        return False
    if distance_km is None or threshold_km is None:
        return False
    return distance_km > threshold_km
