"""Who may do what: pure functions used by handlers, templates and services alike.

Region isolation lives in ``same_region``: everyone but the administrator sees and
changes only objects of their own region.
"""

from __future__ import annotations

from typing import Any, Callable

from app.auth.models import Role, User
from app.errors import DomainError


def region_id_of(obj: Any) -> int | None:
    """The region an object belongs to."""
    from app.auth.models import Region
    from app.booking.models import Booking, RequestRound, SeriesBooking
    from app.labs.models import KitLoan, Offer, Session
    from app.transport.models import Bus, BusPlan, BusStop

    if isinstance(obj, BusStop):
        obj = obj.bus
    if isinstance(obj, Bus):
        obj = obj.plan
    if isinstance(obj, BusPlan):
        obj = obj.session
    if isinstance(obj, Region):
        return obj.id
    if isinstance(obj, Session):
        return obj.offer.region_id
    if isinstance(obj, (Booking,)):
        return obj.session.offer.region_id
    if isinstance(obj, SeriesBooking):
        return obj.offer.region_id
    if isinstance(obj, KitLoan):
        return obj.kit.region_id
    if isinstance(obj, (Offer, RequestRound)):
        return obj.region_id
    if hasattr(obj, "region_id"):
        return obj.region_id
    raise TypeError(f"no region for {type(obj).__name__}")


def _authenticated(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def same_region(user: User | None, obj: Any) -> bool:
    if not _authenticated(user):
        return False
    if user.role == Role.ADMIN:
        return True
    return user.region_id is not None and region_id_of(obj) == user.region_id


def can_view(user: User | None, obj: Any) -> bool:
    return same_region(user, obj)


def is_teacher(user: User | None) -> bool:
    return _authenticated(user) and user.role == Role.TEACHER


def is_coordinator(user: User | None) -> bool:
    return _authenticated(user) and user.role == Role.COORDINATOR


def is_programme_leader(user: User | None) -> bool:
    return _authenticated(user) and user.role == Role.PROGRAMME_LEADER


def is_admin(user: User | None) -> bool:
    return _authenticated(user) and user.role == Role.ADMIN


def is_school_coordinator(user: User | None) -> bool:
    """The school's own ICC/W&T coordinator, bound to one school."""
    return _authenticated(user) and user.role == Role.SCHOOL_COORDINATOR and user.school_id is not None


def is_of_school(user: User | None, school_id: int | None) -> bool:
    """A teacher or school coordinator of this school (the school's own people)."""
    return (is_teacher(user) or is_school_coordinator(user)) and school_id is not None and user.school_id == school_id


def can_manage_venue(user: User | None, venue: Any) -> bool:
    """Coordinators manage the venues they are linked to; administrators all."""
    if is_admin(user):
        return True
    if is_coordinator(user) and same_region(user, venue):
        return any(v.id == venue.id for v in user.venues)
    return False


def can_manage_offer(user: User | None, offer: Any) -> bool:
    if is_admin(user):
        return True
    if not is_coordinator(user) or not same_region(user, offer):
        return False
    venue_ids = {v.id for v in user.venues}
    if offer.venue_id is not None:
        return offer.venue_id in venue_ids
    part_venues = {p.venue_id for p in offer.parts if p.venue_id}
    return bool(part_venues & venue_ids) or not part_venues


def can_create_offer(user: User | None) -> bool:
    return is_admin(user) or is_coordinator(user)


def can_manage_session(user: User | None, session: Any) -> bool:
    if is_admin(user):
        return True
    if session.venue_id is not None and is_coordinator(user) and same_region(user, session):
        if any(v.id == session.venue_id for v in user.venues):
            return True
    return can_manage_offer(user, session.offer)


def can_book(user: User | None, session: Any) -> bool:
    """A teacher books for their own school, in their own region."""
    return is_teacher(user) and user.school_id is not None and same_region(user, session)


def can_view_booking(user: User | None, booking: Any) -> bool:
    if is_teacher(user) or is_school_coordinator(user):
        return booking.school_id == user.school_id
    if is_coordinator(user):
        return can_manage_session(user, booking.session)
    return (is_programme_leader(user) or is_admin(user)) and same_region(user, booking)


def can_cancel_booking(user: User | None, booking: Any) -> bool:
    """Whether the user may cancel at all; the deadline rule is the service's. The school's
    teachers and its school coordinator cancel the school's bookings (every one of them)."""
    if is_teacher(user) or is_school_coordinator(user):
        return booking.school_id == user.school_id
    return is_coordinator(user) and can_manage_session(user, booking.session) or is_admin(user)


def can_change_booking(user: User | None, booking: Any) -> bool:
    """Who may change a booking's class (counts, contact, remarks): whoever may cancel it."""
    return can_cancel_booking(user, booking)


def can_answer_request(user: User | None, booking: Any) -> bool:
    """Approving or declining a requested booking: the coordinator of its session, or an administrator."""
    return (is_coordinator(user) and can_manage_session(user, booking.session)) or is_admin(user)


def can_reserve_kit(user: User | None, kit: Any) -> bool:
    """Teachers reserve their region's lending kits for their school."""
    return is_teacher(user) and same_region(user, kit)


def can_manage_kit_loan(user: User | None, loan: Any) -> bool:
    """The region's coordinators hand out and take back lending kits."""
    return is_admin(user) or (is_coordinator(user) and same_region(user, loan))


def can_set_rules(user: User | None, region: Any) -> bool:
    return (is_programme_leader(user) and same_region(user, region)) or is_admin(user)


def can_manage_rounds(user: User | None, obj: Any) -> bool:
    """Programme leaders and coordinators run their region's request rounds."""
    return (is_programme_leader(user) or is_coordinator(user)) and same_region(user, obj) or is_admin(user)


def can_view_reach(user: User | None, region: Any) -> bool:
    return (is_programme_leader(user) or is_coordinator(user)) and same_region(user, region) or is_admin(user)


def can_plan_transport(user: User | None, region: Any) -> bool:
    return (is_coordinator(user) and same_region(user, region)) or is_admin(user)


def can_manage_api_token(user: User | None, token: Any) -> bool:
    """Everyone manages (lists, revokes) their own API tokens, and only those."""
    return _authenticated(user) and token.user_id == user.id


def can_decline_bus(user: User | None, booking: Any) -> bool:
    """The school's teacher or school coordinator (own transport), or the coordinator of the session."""
    if is_teacher(user) or is_school_coordinator(user):
        return booking.school_id == user.school_id
    return (is_coordinator(user) and can_manage_session(user, booking.session)) or is_admin(user)


# ------------------------------------------------------------------ the school coordinator


def can_manage_school(user: User | None, school: Any) -> bool:
    """The school coordinator's pages (teachers, classes, bookings of the school): only the
    school coordinator of that very school, in their own region."""
    return (
        is_school_coordinator(user) and school is not None and user.school_id == school.id and same_region(user, school)
    )


def can_manage_school_class(user: User | None, school_class: Any) -> bool:
    """A class of a school (school_classes): its school coordinator changes and removes it."""
    return is_school_coordinator(user) and school_class.school_id == user.school_id


def can_use_school_class(user: User | None, school_class: Any) -> bool:
    """The booking form offers (and takes) the classes of the booking teacher's own school."""
    return is_of_school(user, school_class.school_id)


def can_manage_school_teacher(user: User | None, target: Any) -> bool:
    """A school coordinator invites and removes the teachers of their own school, nobody else."""
    return (
        is_school_coordinator(user)
        and target.role == Role.TEACHER
        and target.school_id == user.school_id
        and target.id != user.id
    )


# ------------------------------------------------------------------ administration


def can_administer(user: User | None) -> bool:
    """The administration pages (Beheer): administrators, and programme leaders for their own region."""
    return is_admin(user) or is_programme_leader(user)


def can_manage_regions(user: User | None) -> bool:
    """Creating regions and changing their code and name: administrators."""
    return is_admin(user)


def can_edit_region(user: User | None, region: Any) -> bool:
    """A region's settings (holiday region, bus threshold, road factor, gender counts):
    administrators, and the region's own programme leader."""
    return is_admin(user) or (is_programme_leader(user) and same_region(user, region))


def can_manage_users(user: User | None) -> bool:
    return can_administer(user)


def can_manage_user(user: User | None, target: Any) -> bool:
    """Administrators manage every account; a programme leader the accounts of their own
    region, administrators excepted."""
    if is_admin(user):
        return True
    return (
        is_programme_leader(user)
        and target.role != Role.ADMIN
        and target.region_id is not None
        and target.region_id == user.region_id
    )


def can_grant_role(user: User | None, role: Role, region: Any | None) -> bool:
    """Which role in which region an account may be given: administrators any; a programme
    leader every role but administrator, in their own region only."""
    if is_admin(user):
        return True
    return (
        is_programme_leader(user)
        and role != Role.ADMIN
        and region is not None
        and region_id_of(region) == user.region_id
    )


def can_manage_school_data(user: User | None) -> bool:
    """Imports of DUO school data and holidays, assigning schools to regions: administrators."""
    return is_admin(user)


def can_reassign_areas(user: User | None) -> bool:
    """Who may open the page that reassigns the schools of municipalities (nodal, COROP areas)
    to a region: administrators, and programme leaders of a region. What each may change is
    ``can_reassign_area``'s."""
    return is_admin(user) or (is_programme_leader(user) and user.region_id is not None)


def _region_or_none(region: Any) -> int | None:
    if region is None or isinstance(region, int):
        return region
    return region_id_of(region)


def can_reassign_area(user: User | None, from_region: Any, to_region: Any) -> bool:
    """The one gate for moving a school from one region to another (a region, its id, or None
    for a school without a region), asked for every school a reassignment (or its undo) moves.

    An administrator makes any change. A programme leader only changes that touch their own
    region: giving a school of their region away to another region, or taking in a school
    that has no region. Taking a school from another region needs an administrator."""
    if is_admin(user):
        return True
    if not can_reassign_areas(user):
        return False
    own, source, target = user.region_id, _region_or_none(from_region), _region_or_none(to_region)
    if source == target:
        return False  # not a move (a change that moves nothing is checked on its target region)
    return source == own or (source is None and target == own)


def region_change_moves(change: Any) -> set[tuple[int | None, int | None]]:
    """The (from region, to region) pairs a recorded region change made: one per region the
    moved schools came from; a change that moved nothing counts as (None, its region)."""
    moves = {(was.get("region_id"), change.region_id) for was in (change.before or {}).get("schools", {}).values()}
    return moves or {(None, change.region_id)}


def can_undo_region_change(user: User | None, change: Any) -> bool:
    """Undo under the same rule: whoever could have made the change may undo it."""
    return can_reassign_areas(user) and all(can_reassign_area(user, f, t) for f, t in region_change_moves(change))


# ------------------------------------------------------------------ linked objects


def linkable(
    actor: User | None, model: type, ident: Any, *, field: str, check: Callable[[Any, Any], bool] | None = None
) -> Any:
    """Load the object an id in a form field or API body names, as one this actor may link to.

    Every write that links another object (a venue to an offer part, a member of staff to a
    session, a school to a booking, a session as a move's target, …) loads it through here,
    not only the object in the URL: the id must be a whole number in the database's range,
    the object must exist, be of the actor's region (administrators: any region) and pass
    ``check`` when given. Anything else raises ``LinkError`` on ``field`` — the same error
    for "does not exist" and "of another region", so nothing leaks — which a form shows on
    the field and the API answers with 422. The ``LINK_CHECKS`` setting is off only in the
    control case of the linked-id matrix (tests/auth/test_linked_ids_matrix.py).
    """
    from flask import current_app

    from app.db import MAX_ID
    from app.extensions import db

    try:
        number = int(ident) if isinstance(ident, (int, str)) and not isinstance(ident, bool) else None
    except ValueError:
        number = None
    if number is None or not 1 <= number <= MAX_ID:
        raise LinkError(field=field)
    obj = db.session.get(model, number)
    if obj is None:
        raise LinkError(field=field)
    if not current_app.config.get("LINK_CHECKS", True):
        return obj
    if not (is_admin(actor) or same_region(actor, obj)) or (check is not None and not check(actor, obj)):
        raise LinkError(field=field)
    return obj


class LinkError(DomainError):
    """An id in a form or body that names nothing this actor may link to."""

    status = 422
    code = "invalid_reference"

    def __init__(self, message: str | None = None, *, field: str | None = None):
        if message is None:
            from flask_babel import gettext as _

            message = _("Maak een keuze uit de lijst.")
        super().__init__(message, field=field)
