"""Exports of the reach tables as CSV (streamed) and XLSX (openpyxl write-only)."""
from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _

from app import exports_safe


def school_table(rows) -> tuple[list[str], Iterator[list]]:
    header = [_("Vestigingscode"), _("School"), _("Gemeente"), _("Klassen bereikt"), _("Leerlingen bereikt"),
              _("Bezoeken"), _("Leerlingen ingeschreven"), _("Geschat"), _("Aandeel bereikt"), _("Werelden"),
              _("Afstand tot dichtstbijzijnde locatie (km)")]

    def gen():
        for r in rows:
            yield [r.school.location_code, r.school.name, r.school.municipality_name, r.classes, r.pupils, r.visits,
                   r.enrolled if r.enrolled is not None else "", "ja" if r.enrolled_estimated else "",
                   round(r.share, 4) if r.share is not None else "", " ".join(r.worlds),
                   round(r.distance_km, 1) if r.distance_km is not None else ""]
    return header, gen()


def groep_table(summary) -> tuple[list[str], Iterator[list]]:
    header = [_("Groep"), _("Leerlingen bereikt"), _("Leerlingen ingeschreven"), _("Aandeel bereikt")]
    return header, ([g["groep"], g["pupils_reached"], g["pupils_enrolled"],
                     round(g["share"], 4) if g["share"] is not None else ""] for g in summary.groepen)


def not_reached_table(rows, contacts: dict[int, str]) -> tuple[list[str], Iterator[list]]:
    header = [_("Vestigingscode"), _("School"), _("Plaats"), _("Telefoon"), _("Website"), _("E-mail leerkrachten"),
              _("Afstand tot dichtstbijzijnde locatie (km)")]
    return header, ([r.school.location_code, r.school.name, r.school.city, r.school.phone, r.school.website,
                     contacts.get(r.school.id, ""), round(r.distance_km, 1) if r.distance_km is not None else ""]
                    for r in rows if not r.reached)


def summary_table(sm) -> tuple[list[str], Iterator[list]]:
    """The key figures of the dashboard, one measure a row."""
    rows = [
        (_("Scholen"), sm.schools), (_("Scholen bereikt (geweest)"), sm.schools_reached),
        (_("Scholen geboekt, nog niet geweest"), sm.schools_booked_not_visited),
        (_("Scholen niet bereikt"), sm.schools_not_reached), (_("Aandeel scholen bereikt"), round(sm.share_schools, 4)), (_("Lessen gehouden"), sm.sessions_held),
        (_("Klassen bereikt"), sm.classes_served), (_("Leerlingen bereikt"), sm.pupils_served),
        (_("Boekingen aanwezig"), sm.bookings_attended), (_("Boekingen niet verschenen"), sm.bookings_no_show),
        (_("Boekingen geannuleerd"), sm.bookings_cancelled), (_("Meisjes (waar opgegeven)"), sm.girls),
        (_("Jongens (waar opgegeven)"), sm.boys), (_("Klassen per bus"), sm.transport["classes_bussed"]),
        (_("Bussen"), sm.transport["buses"]), (_("Buskilometers"), round(sm.transport["km"], 1)),
        (_("Uitzonderingen op de spelregels"), sm.overrides),
    ]
    return [_("Maat"), _("Waarde")], (list(r) for r in rows)


def trend_table(trend: list[dict]) -> tuple[list[str], Iterator[list]]:
    header = [_("Schooljaar"), _("Scholen bereikt"), _("Klassen"), _("Leerlingen")]
    return header, ([f"{t['school_year']}/{t['school_year'] + 1}", t["schools_reached"], t["classes"], t["pupils"]]
                    for t in trend)


def distance_table(sm) -> tuple[list[str], Iterator[list]]:
    header = [_("Afstand tot dichtstbijzijnde locatie"), _("Scholen"), _("Bereikt"), _("Aandeel bereikt")]
    return header, ([b["band"], b["schools"], b["reached"], round(b["share"], 4) if b["share"] is not None else ""]
                    for b in sm.distance_bands)


def series_table(sm) -> tuple[list[str], Iterator[list]]:
    s = sm.series
    header = [_("Reeksen geboekt"), _("Deel 1 gedaan"), _("Deel 1 en 2 gedaan"), _("Alle drie de delen gedaan")]
    return header, iter([[s["series"], s["part1"], s["parts12"], s["all3"]]])


# The one safe writer of CSV and XLSX (formula-like text neutralised): see app/exports_safe.py.
csv_stream = exports_safe.csv_stream
xlsx_bytes = exports_safe.xlsx_bytes
