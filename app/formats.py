"""Numbers as a Dutch reader expects them, everywhere a teacher looks: "1,4 km", "1 klas",
"2 klassen", and one way to say how much room a session has left (never "17 leerlingen,
0 klassen — Vol"). Template filters and globals; plain functions for mails and tests."""

from __future__ import annotations

from flask_babel import format_decimal, gettext as _, ngettext

from app.labs.capacity import class_room, places_left


def km(value: float | None) -> str:
    """A road distance with one decimal in the reader's locale: "1,4 km" (nl), "1.4 km" (en)."""
    if value is None:
        return ""
    return _("%(km)s km", km=format_decimal(round(float(value), 1), format="#,##0.0"))


def pupils(n: int) -> str:
    return ngettext("%(num)d leerling", "%(num)d leerlingen", n)


def classes(n: int) -> str:
    return ngettext("%(num)d klas", "%(num)d klassen", n)


def places(session) -> str:
    """The room a session has left, in one phrase: "Vol" when no class fits any more."""
    room = class_room(session)
    if room <= 0:
        return _("Vol")
    left = places_left(session)
    if left.classes == 1:
        return ngettext("plaats voor 1 klas, tot %(num)d leerling", "plaats voor 1 klas, tot %(num)d leerlingen", room)
    return _("plaats voor %(classes)s, samen tot %(pupils)s", classes=classes(left.classes), pupils=pupils(room))


def register(app) -> None:
    app.add_template_filter(km, "km")
    app.add_template_global(places, "places_text")
    app.add_template_global(pupils, "pupils_text")
    app.add_template_global(classes, "classes_text")
