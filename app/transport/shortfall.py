"""A class without a bus (the day's fleet is used up): hire extra buses, ask the school."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth import permissions
from app.auth.models import Region, User
from app.booking.models import Booking, BookingEvent
from app.db import utcnow
from app.extensions import db
from app.timeutil import to_local
from app.transport.edits import plan_for
from app.transport.effects import session_changed
from app.transport.errors import PlanningNotAllowed, TransportError
from app.transport.models import BusHire, BusType
from app.transport.plans import day_sessions_with_plans, hire_price, lock_plan


MAX_HIRED_PER_TYPE = 20


def hire_buses(actor: User, region: Region, day: date, bus_type_id, count: int) -> BusHire | None:
    """The coordinator hires ``count`` extra buses of a type for a day (0: none; the number replaces
    what was hired). The day's plans are re-made after the commit (outbox) and may use them, each at
    the type's hire price; the shortfall warning goes when they suffice."""
    if not permissions.can_plan_transport(actor, region):
        raise PlanningNotAllowed(_("U mag de busplanning niet wijzigen."))
    bt = permissions.linkable(
        actor, BusType, bus_type_id, field="bus_type", check=lambda a, t: t.region_id == region.id and t.active
    )
    if hire_price(bt, region) is None:
        raise TransportError(
            _("Voor dit bustype is geen huurprijs ingesteld: het kan niet gehuurd worden."),
            field="bus_type",
            code="not_for_hire",
        )
    if not isinstance(count, int) or not 0 <= count <= MAX_HIRED_PER_TYPE:
        raise TransportError(_("Huur tussen 0 en %(n)s bussen.", n=MAX_HIRED_PER_TYPE), field="count")
    if day < to_local(utcnow()).date():
        raise TransportError(_("Een dag in het verleden kan niet meer."), field="day")
    hire = db.session.scalar(
        select(BusHire).where(BusHire.region_id == region.id, BusHire.day == day, BusHire.bus_type_id == bt.id)
    )
    if count == 0:
        if hire is not None:
            db.session.delete(hire)
        hire = None
    else:
        if hire is None:
            hire = BusHire(region_id=region.id, day=day, bus_type_id=bt.id, count=count, created_by_id=actor.id)
            db.session.add(hire)
        hire.count = count
    # the day is planned as one: its plans are re-made after the commit (stale: even a plan whose
    # classes all have a bus), holding the pickup times the schools were told
    for sid in day_sessions_with_plans(region.id, day):
        lock_plan(sid).stale = True
        session_changed(sid)
    db.session.flush()
    return hire


def hires_on(region_id: int | None, day: date) -> list[BusHire]:
    stmt = (
        select(BusHire).where(BusHire.day == day).options(selectinload(BusHire.bus_type)).order_by(BusHire.bus_type_id)
    )
    if region_id is not None:
        stmt = stmt.where(BusHire.region_id == region_id)
    return list(db.session.scalars(stmt))


def ask_school(actor: User, plan_id: int, booking_id) -> Booking:
    """A class has no bus (the fleet is used up): mail the school's contacts (through the outbox) to ask
    whether they can arrange their own transport; they answer by declining the bus on their booking."""
    plan, session = plan_for(actor, plan_id)
    booking = permissions.linkable(
        actor, Booking, booking_id, field="booking", check=lambda a, b: b.session_id == session.id
    )
    if not any(w.get("code") == "no_bus" and w.get("booking_id") == booking.id for w in plan.warnings or []):
        raise TransportError(_("Deze klas heeft een bus: er is niets te vragen."), field="booking", code="has_bus")
    from flask_babel import force_locale

    from app.booking.notify import recipients
    from app.mail import queue_mail

    to, locale = recipients(booking)
    if not to:
        raise TransportError(_("Van deze boeking is geen e-mailadres bekend."), field="booking", code="no_email")
    base = current_app.config["BASE_URL"].rstrip("/")
    with force_locale(locale):
        when = to_local(session.starts_at).strftime("%d-%m-%Y %H:%M")
        subject = _("Busvervoer: %(title)s", title=session.offer.title)
        body = "\n\n".join(
            [
                _("Beste %(name)s,", name=booking.contact_name or _("collega")),
                _(
                    'Voor uw klas (groep %(groep)s, %(seats)s plaatsen) bij "%(title)s" op %(when)s is nog geen bus: '
                    "alle bussen van de regio rijden dan al.",
                    groep=booking.groep_label,
                    seats=booking.pupils + booking.adults,
                    title=session.offer.title,
                    when=when,
                ),
                _(
                    'Kunt u zelf vervoer regelen? Geef dat dan aan bij uw boeking ("eigen vervoer"): %(url)s',
                    url=f"{base}/boekingen/{booking.id}",
                ),
                _("Lukt dat niet, dan zoeken wij verder naar een oplossing en hoort u van ons."),
            ]
        )
    queue_mail(to, subject, body)
    booking.events.append(BookingEvent(actor_id=actor.id, at=utcnow(), action="asked_own_transport"))
    db.session.flush()
    return booking
