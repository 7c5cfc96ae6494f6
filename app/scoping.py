"""What a list query may show a user: the SQL side of the permission gates (app.auth.permissions).

The gates there decide one object at a time; a list page or API list asks the database for
many, and filters them here, in one place, so every list applies the same region isolation:
an administrator sees every region; anyone else only their own (no region: nothing); a lab
coordinator only the sessions and offers of their own venues.
"""

from __future__ import annotations

from sqlalchemy import false, or_

from app.auth import permissions
from app.auth.models import User


def region_scope(user: User | None, column) -> list:
    """The where-clauses that keep ``column`` (a region id) to the user's region."""
    if permissions.is_admin(user):
        return []
    if user is None or user.region_id is None:
        return [false()]
    return [column == user.region_id]


def offer_scope(user: User | None) -> list:
    """Offers a manager lists: a coordinator those of their venues, a programme leader their
    region's, an administrator all; anyone else none."""
    from app.labs.models import Offer

    if permissions.is_coordinator(user):
        return [*region_scope(user, Offer.region_id), Offer.venue_id.in_([v.id for v in user.venues])]
    if permissions.is_admin(user) or permissions.is_programme_leader(user):
        return region_scope(user, Offer.region_id)
    return [false()]


def session_scope(user: User | None) -> list:
    """Sessions a manager lists (the query joins Session with its Offer): a coordinator those at
    their venues or of offers at their venues, a programme leader their region's, an
    administrator all; anyone else none."""
    from app.labs.models import Offer, Session

    if permissions.is_coordinator(user):
        venue_ids = [v.id for v in user.venues]
        return [
            *region_scope(user, Offer.region_id),
            or_(Session.venue_id.in_(venue_ids), Offer.venue_id.in_(venue_ids)),
        ]
    if permissions.is_admin(user) or permissions.is_programme_leader(user):
        return region_scope(user, Offer.region_id)
    return [false()]
