"""What the coordinator reads about a plan's warnings: one text per warning, and for a class
without a bus the choices (hire an extra bus, move the session, ask the school). Used by the
plan page and the API alike; the warnings themselves are the planner's (codes and numbers)."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.booking.models import Booking
from app.extensions import db
from app.timeutil import to_local
from app.transport.plans import hire_price


def _bookings(plans) -> dict[int, Booking]:
    ids = sorted({w["booking_id"] for p in plans for w in (p.warnings or []) if w.get("booking_id")})
    if not ids:
        return {}
    return {
        b.id: b
        for b in db.session.scalars(select(Booking).where(Booking.id.in_(ids)).options(selectinload(Booking.school)))
    }


def _text(w: dict, school: str) -> str:
    code, minutes, limit = w["code"], w.get("minutes"), current_app.config["TRANSPORT_MAX_RIDE_MINUTES"]
    if code == "ride_over_limit":
        return _(
            "%(school)s: de rit duurt %(minutes)s minuten, langer dan %(max)s. Korter kan niet (de school ligt "
            "te ver); beslis of dit zo mag.",
            school=school,
            minutes=minutes,
            max=limit,
        )
    if code == "no_bus":
        return _(
            "%(school)s (%(seats)s plaatsen) heeft geen bus: alle bussen van de regio rijden dan al.",
            school=school,
            seats=w.get("seats"),
        )
    if code == "no_coordinates":
        return _(
            "%(school)s heeft geen coördinaten en geen bekende afstand: deze klas krijgt geen bus tot het adres "
            "of de afstand is ingevuld.",
            school=school,
        )
    if code == "implausible_coordinates":
        return _(
            "%(school)s ligt volgens de coördinaten buiten Nederland: deze klas krijgt geen bus tot het adres "
            "is verbeterd of de afstand is ingevuld.",
            school=school,
        )
    if code == "pin_breaks_rule":
        return _(
            "De vastgezette bus met %(school)s breekt de regels: de rit duurt %(minutes)s minuten (maximaal "
            "%(max)s) of de bus is te vol. Maak de klas los of laat het zo.",
            school=school,
            minutes=minutes,
            max=limit,
        )
    if code == "greedy":
        return _(
            "De planner vond geen goede indeling en gebruikte een eenvoudige vuistregel: dit plan kan duurder "
            "zijn dan nodig."
        )
    if code == "pickup_moved":
        return _(
            "De ophaaltijd van %(school)s verschuift %(minutes)s minuten ten opzichte van wat de school is verteld.",
            school=school,
            minutes=minutes,
        )
    if code == "locked_over_fleet":
        return _("De vergrendelde bussen zijn samen meer dan de regio heeft.")
    if code == "locked_over_seats":
        return _("Een vergrendelde bus heeft meer klassen dan plaatsen.")
    return code


def _hireable(region) -> list:
    """The region's active bus types that can be hired (a hire price of their own or the region's)."""
    from app.transport.models import BusType

    types = db.session.scalars(
        select(BusType)
        .where(BusType.region_id == region.id, BusType.active.is_(True))
        .order_by(BusType.seats.desc(), BusType.id)
    ).all()
    return [t for t in types if hire_price(t, region) is not None]


def _hired(region_id: int, day) -> dict[int, int]:
    from app.transport.models import BusHire

    return {
        t: n
        for t, n in db.session.execute(
            select(BusHire.bus_type_id, BusHire.count).where(BusHire.region_id == region_id, BusHire.day == day)
        )
    }


def describe(plans) -> dict[int, list[dict]]:
    """Per plan id its warnings: code, booking id, school, text and (a class without a bus) choices,
    each a code, a text and where it fits an address (``url``: filled in by the caller)."""
    bookings = _bookings(plans)
    out: dict[int, list[dict]] = {}
    for p in plans:
        items = []
        for w in p.warnings or []:
            b = bookings.get(w.get("booking_id"))
            school = b.school.name if b else ""
            item = {**w, "school": school, "text": _text(w, school)}
            if w["code"] == "no_bus":
                region = p.session.offer.region
                day = to_local(p.session.starts_at).date()
                choices = []
                hired = _hired(region.id, day)
                for t in _hireable(region):
                    price = hire_price(t, region)
                    choices.append(
                        {
                            "code": "hire",
                            "bus_type_id": t.id,
                            "date": day.isoformat(),
                            "count": hired.get(t.id, 0) + 1,
                            "price": round(price, 2),
                            "text": _(
                                "Een extra %(type)s huren voor deze dag (€ %(price)s per rit).",
                                type=t.name,
                                price="%.2f" % price,
                            ),
                        }
                    )
                choices.append(
                    {
                        "code": "move_session",
                        "session_id": p.session_id,
                        "text": _("De les verplaatsen naar een tijd waarop er bussen over zijn."),
                        "offer_id": p.session.offer_id,
                    }
                )
                email = (b.contact_user.email if b and b.contact_user else (b.contact_email if b else "")) or ""
                choices.append(
                    {
                        "code": "ask_school",
                        "plan_id": p.id,
                        "booking_id": w.get("booking_id"),
                        "text": _("De school vragen of ze zelf vervoer regelt."),
                        "email": email,
                    }
                )
                item["choices"] = choices
            items.append(item)
        out[p.id] = items
    return out
