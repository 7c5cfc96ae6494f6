"""Dutch (translatable) labels for domain values, used by pages, mails and exports."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.labs.models import OfferKind, VenueKind, World

WORLD_LABELS = {
    World.MENS_GEZONDHEID: _l("Mens & Gezondheid"),
    World.VOEDING_NATUUR: _l("Voeding & Natuur"),
    World.ENERGIE_WATER_VEILIGHEID: _l("Energie, Water & Veiligheid"),
    World.WONEN_WERKEN_VERKEER: _l("Wonen, Werken & Verkeer"),
    World.ONTWERP_PRODUCTIE_WERELDHANDEL: _l("Ontwerp, Productie & Wereldhandel"),
    World.DIGITAAL_MEDIA_ENTERTAINMENT: _l("Digitaal, Media & Entertainment"),
    World.HITECH_SCIENCE: _l("Hi-tech & Science"),
}

VENUE_KIND_LABELS = {
    VenueKind.TECHLAB: _l("Techlab"),
    VenueKind.MOBILE_LAB: _l("Mobiel lab"),
    VenueKind.HOTSPOT: _l("Hotspot"),
    VenueKind.COMPANY: _l("Bedrijf"),
}

OFFER_KIND_LABELS = {
    OfferKind.WORKSHOP: _l("Les in het techlab"),
    OfferKind.MASTERCLASS: _l("Masterclass"),
    OfferKind.HOTSPOT_VISIT: _l("Hotspotbezoek"),
    OfferKind.GUEST_LESSON: _l("Gastles op school"),
    OfferKind.MOBILE_LAB: _l("Mobiel lab op school"),
    OfferKind.EVENT: _l("Evenement"),
}

BOOKING_STATUS_LABELS = {
    "confirmed": _l("Bevestigd"),
    "waitlisted": _l("Op de wachtlijst"),
    "offered": _l("Plaats aangeboden: aannemen of afslaan"),
    "requested": _l("Aangevraagd: wacht op goedkeuring"),
    "cancelled": _l("Geannuleerd"),
    "attended": _l("Aanwezig geweest"),
    "no_show": _l("Niet verschenen"),
}

ROLE_LABELS = {
    "teacher": _l("Leerkracht"),
    "coordinator": _l("Techlab-coördinator"),
    "programme_leader": _l("Programmaleider"),
    "admin": _l("Beheerder"),
    "school_coordinator": _l("Schoolcoördinator"),
}


def groep_label(groep_min: int, groep_max: int) -> str:
    if groep_min == groep_max:
        return str(groep_min)
    return "/".join(str(g) for g in range(groep_min, groep_max + 1))


def groep_range(groep_min: int, groep_max: int) -> str:
    """The groepen an offer is for: "7" or "5–8"."""
    return str(groep_min) if groep_min == groep_max else f"{groep_min}–{groep_max}"


def parse_groep(value: str) -> tuple[int, int]:
    """'7' -> (7, 7); '7/8' or '7-8' -> (7, 8). Raises ValueError when not a groep 1–8."""
    raw = str(value).strip().replace("-", "/").replace(" ", "")
    parts = [p for p in raw.split("/") if p]
    if not parts or len(parts) > 3:
        raise ValueError(value)
    nums = [int(p) for p in parts]
    if any(n < 1 or n > 8 for n in nums):
        raise ValueError(value)
    lo, hi = min(nums), max(nums)
    if sorted(nums) != list(range(lo, hi + 1)):
        raise ValueError(value)
    return lo, hi


KIT_LOAN_STATUS_LABELS = {
    "reserved": _l("Gereserveerd"),
    "lent": _l("Uitgeleend"),
    "returned": _l("Teruggebracht"),
    "cancelled": _l("Geannuleerd"),
}
