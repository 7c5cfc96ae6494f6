"""History in words: one booking event (action code, actor, data) as a Dutch sentence.

Every page that shows a booking's history (the teacher's booking page, the coordinator's
roster and desk) renders events through ``describe_event``, so no raw action code
("create", "move", "bus_declined") reaches a reader. The text goes through the translation
layer; an unknown action falls back to a neutral sentence naming the new status.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.labels import BOOKING_STATUS_LABELS, ROLE_LABELS

# what happened, per action code (without the actor)
ACTION_TEXTS = {
    "create": _l("Geboekt"),
    "cancel": _l("Geannuleerd"),
    "decline_offer": _l("Aangeboden plaats afgeslagen"),
    "leave_waitlist": _l("Van de wachtlijst gehaald"),
    "offer": _l("Plaats aangeboden (vrijgekomen plaats)"),
    "promote": _l("Van de wachtlijst naar bevestigd (vrijgekomen plaats)"),
    "accept_offer": _l("Aangeboden plaats aangenomen"),
    "offer_expired": _l("Aangeboden plaats verlopen (niet op tijd aangenomen)"),
    "move": _l("Verplaatst"),
    "session_cancelled": _l("Les geannuleerd"),
    "attendance": _l("Aanwezigheid vastgelegd"),
    "override": _l("Uitzondering op de spelregels"),
    "allocated": _l("Toegewezen in een aanvraagronde"),
    "bus_declined": _l("Bus afgezegd (eigen vervoer)"),
    "bus_accepted": _l("Toch met de bus"),
    "message": _l("Bericht verstuurd"),
    "undo_cancel": _l("Annulering ongedaan gemaakt"),
    # the demo seed writes the final status as the action
    "attended": _l("Aanwezig geweest"),
    "no_show": _l("Niet verschenen"),
    "cancelled": _l("Geannuleerd"),
}


def actor_text(event) -> str:
    """Who did it, in words: the person's name and role, or "het systeem" for jobs."""
    actor = event.actor
    if actor is None:
        return _("het systeem")
    role = ROLE_LABELS.get(actor.role.value)
    name = (actor.name or "").strip() or _("onbekende gebruiker")
    return f"{name} ({role})" if role else name


def action_text(event) -> str:
    """What happened, in words, with the details the event carries."""
    base = ACTION_TEXTS.get(event.action)
    data = event.data or {}
    if event.action == "move":
        from app.extensions import db
        from app.labs.models import Session

        old, new = (
            db.session.get(Session, data.get(k)) if data.get(k) else None for k in ("from_session", "to_session")
        )
        if old is not None and new is not None:
            from flask_babel import format_datetime

            return _(
                "Verplaatst van %(old)s naar %(new)s",
                old=format_datetime(old.starts_at, "d MMM y HH:mm"),
                new=format_datetime(new.starts_at, "d MMM y HH:mm"),
            )
    if event.action == "attendance" and event.to_status:
        label = BOOKING_STATUS_LABELS.get(event.to_status, "")
        if event.to_status == "attended" and data.get("attended_pupils") is not None:
            return _("Aanwezigheid vastgelegd: %(status)s, %(n)s leerlingen", status=label, n=data["attended_pupils"])
        if event.to_status == "cancelled":
            return _("Aanwezigheid vastgelegd: te laat geannuleerd")
        return _("Aanwezigheid vastgelegd: %(status)s", status=label)
    if event.action == "create" and event.to_status == "waitlisted":
        return _("Op de wachtlijst gezet")
    if event.action == "message" and data.get("subject"):
        return _("Bericht verstuurd: %(subject)s", subject=data["subject"])
    if event.action == "allocated" and data.get("round_id"):
        return _("Toegewezen in aanvraagronde %(n)s", n=data["round_id"])
    if base is not None:
        return str(base)
    if event.to_status:
        return _("Status gewijzigd naar %(status)s", status=BOOKING_STATUS_LABELS.get(event.to_status, event.to_status))
    return _("Gewijzigd")


def describe_event(event) -> str:
    """The whole line: what happened, by whom, and why (the reason given), in Dutch words."""
    text = _("%(what)s door %(who)s", what=action_text(event), who=actor_text(event))
    if event.reason and event.action not in ("allocated", "offer", "promote"):
        text = _("%(text)s (reden: %(reason)s)", text=text, reason=event.reason)
    return text
