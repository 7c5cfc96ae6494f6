"""Exports of the reach tables as CSV (streamed; Dutch notation by default) and XLSX (openpyxl
write-only: number and percentage formats, widths, a frozen header, a definitions sheet)."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _

from app import exports_safe
from app.exports_safe import Col, Percent


def _pct(value) -> Percent | str:
    return Percent(round(value, 4)) if value is not None else ""


def world_names(codes) -> str:
    """The worlds of technology by their names (never the codes), in the order of the list."""
    from app.labels import WORLD_LABELS

    names = {w.value: str(label) for w, label in WORLD_LABELS.items()}
    return ", ".join(names.get(c, c) for c in codes)


def school_table(rows) -> tuple[list[str], Iterator[list]]:
    header = [
        Col(_("Vestigingscode"), 14),
        Col(_("School"), 40),
        Col(_("Gemeente"), 24),
        _("Klassen bereikt"),
        _("Leerlingen bereikt"),
        _("Bezoeken"),
        _("Leerlingen ingeschreven"),
        _("Geschat"),
        _("Aandeel bereikt"),
        Col(_("Werelden"), 50),
        _("Afstand tot dichtstbijzijnde locatie (km)"),
    ]

    def gen():
        for r in rows:
            yield [
                r.school.location_code,
                r.school.name,
                r.school.municipality_name,
                r.classes,
                r.pupils,
                r.visits,
                r.enrolled if r.enrolled is not None else "",
                _("ja") if r.enrolled_estimated else "",
                _pct(r.share),
                world_names(r.worlds),
                round(r.distance_km, 1) if r.distance_km is not None else "",
            ]

    return header, gen()


def groep_table(summary) -> tuple[list[str], Iterator[list]]:
    header = [_("Groep"), _("Leerlingen bereikt"), _("Leerlingen ingeschreven"), _("Aandeel bereikt")]
    return header, ([g["groep"], g["pupils_reached"], g["pupils_enrolled"], _pct(g["share"])] for g in summary.groepen)


def not_reached_table(rows, contacts: dict[int, str]) -> tuple[list[str], Iterator[list]]:
    header = [
        Col(_("Vestigingscode"), 14),
        Col(_("School"), 40),
        Col(_("Plaats"), 24),
        Col(_("Telefoon"), 16),
        Col(_("Website"), 30),
        Col(_("E-mail leerkrachten"), 40),
        _("Afstand tot dichtstbijzijnde locatie (km)"),
    ]
    return header, (
        [
            r.school.location_code,
            r.school.name,
            r.school.city,
            r.school.phone,
            r.school.website,
            contacts.get(r.school.id, ""),
            round(r.distance_km, 1) if r.distance_km is not None else "",
        ]
        for r in rows
        if not r.reached
    )


def headline_rows(head: dict) -> list[tuple[str, object]]:
    g = f"{head['groep_min']}–{head['groep_max']}"
    return [
        (_("Aandeel scholen van de regio bereikt"), _pct(head["share_schools"])),
        (_("Aandeel leerlingen groep %(g)s bereikt in de bereikte scholen", g=g), _pct(head["share_pupils"])),
        (_("Leerlingen groep %(g)s bereikt in de bereikte scholen", g=g), head["pupils_reached"]),
        (_("Leerlingen groep %(g)s ingeschreven in de bereikte scholen", g=g), head["pupils_enrolled"]),
        (_("Bereikte scholen zonder leerlingaantallen"), head["schools_without_enrolment"]),
    ]


def summary_table(sm, head: dict | None = None) -> tuple[list[str], Iterator[list]]:
    """The key figures of the dashboard, one measure a row (the two headline figures first)."""
    rows = (headline_rows(head) if head else []) + [
        (_("Scholen"), sm.schools),
        (_("Scholen bereikt (geweest)"), sm.schools_reached),
        (_("Scholen geboekt, nog niet geweest"), sm.schools_booked_not_visited),
        (_("Scholen niet bereikt"), sm.schools_not_reached),
        (_("Aandeel scholen bereikt"), _pct(sm.share_schools)),
        (_("Lessen gehouden"), sm.sessions_held),
        (_("Klassen bereikt"), sm.classes_served),
        (_("Leerlingen bereikt"), sm.pupils_served),
        (_("Boekingen aanwezig"), sm.bookings_attended),
        (_("Boekingen niet verschenen"), sm.bookings_no_show),
        (_("Boekingen geannuleerd"), sm.bookings_cancelled),
        (_("Meisjes (waar opgegeven)"), sm.girls),
        (_("Jongens (waar opgegeven)"), sm.boys),
        (_("Klassen met de bus (busplanning)"), sm.transport["classes_bussed"]),
        (_("Klassen met de bus, geweest"), sm.transport["classes_bussed_done"]),
        (_("Klassen met de bus, nog gepland"), sm.transport["classes_bussed_planned"]),
        (_("Bussen"), sm.transport["buses"]),
        (_("Buskilometers"), round(sm.transport["km"], 1)),
        (_("Uitzonderingen op de spelregels"), sm.overrides),
    ]
    return [Col(_("Maat"), 60), Col(_("Waarde"), 14)], (list(r) for r in rows)


def trend_table(trend: list[dict]) -> tuple[list[str], Iterator[list]]:
    header = [_("Schooljaar"), _("Scholen bereikt"), _("Klassen"), _("Leerlingen")]
    return header, (
        [
            f"{t['school_year']}/{t['school_year'] + 1}",
            *(("", "", "") if t.get("no_data") else (t["schools_reached"], t["classes"], t["pupils"])),
        ]
        for t in trend
    )


def distance_table(sm) -> tuple[list[str], Iterator[list]]:
    header = [Col(_("Afstand tot dichtstbijzijnde locatie"), 36), _("Scholen"), _("Bereikt"), _("Aandeel bereikt")]
    return header, ([b["band"], b["schools"], b["reached"], _pct(b["share"])] for b in sm.distance_bands)


def series_table(sm) -> tuple[list[str], Iterator[list]]:
    s = sm.series
    header = [_("Reeksen geboekt"), _("Deel 1 gedaan"), _("Deel 1 en 2 gedaan"), _("Alle drie de delen gedaan")]
    return header, iter([[s["series"], s["part1"], s["parts12"], s["all3"]]])


def definitions() -> list[tuple[str, str]]:
    """The definitions sheet of the workbook: what every measure means (app.reporting.reach)."""
    return [
        (_("Begrip"), _("Betekenis")),
        (
            _("Schooljaar"),
            _("1 augustus tot en met 31 juli; een school telt mee bij de regio waar ze in dat schooljaar bij hoorde."),
        ),
        (_("Scholen"), _("Actieve basisscholen (bo, sbo, so; geen vso) van de regio in het schooljaar.")),
        (
            _("Bereikt (geweest)"),
            _(
                "Een klas is bereikt als ze een bezoek had waarbij ze aanwezig was; een school als ten minste één klas bereikt is."
            ),
        ),
        (_("Geboekt, nog niet geweest"), _("Een school met een bevestigde boeking die nog komt, en nog geen bezoek.")),
        (_("Klas"), _("Een school met een groep of combinatie van groepen; telt één keer, hoe vaak ze ook kwam.")),
        (
            _("Leerlingen bereikt"),
            _(
                "Per klas het grootste aantal aanwezige leerlingen van haar bezoeken; een combinatieklas wordt gelijk over haar groepen verdeeld."
            ),
        ),
        (
            _("Leerlingen ingeschreven"),
            _(
                "Uit de DUO-gegevens per groep; zonder cijfers per leeftijd een gelijke verdeling van het totaal (geschat). Nog geen cijfers voor het schooljaar: die van het jaar ervoor."
            ),
        ),
        (_("Aandeel scholen van de regio bereikt"), _("Bereikte scholen gedeeld door alle scholen van de regio.")),
        (
            _("Aandeel leerlingen bereikt in de bereikte scholen"),
            _(
                "Leerlingen van de gekozen groepen (standaard groep 3–8) bereikt, gedeeld door de ingeschreven leerlingen van die groepen, alleen in de bereikte scholen met leerlingaantallen."
            ),
        ),
        (
            _("Afstand"),
            _(
                "Wegafstand tot de dichtstbijzijnde locatie van de regio: bekend, of hemelsbreed maal de omrijfactor van de regio."
            ),
        ),
        (
            _("Klassen met de bus"),
            _(
                "Klassen in een busplanning (met een plaats in de les); geweest: het bezoek is geweest, nog gepland: het komt nog."
            ),
        ),
        (_("Notatie"), _("Aandelen zijn getallen tussen 0 en 1, in het werkboek als percentage opgemaakt.")),
    ]


# The one safe writer of CSV and XLSX (formula-like text neutralised): see app/exports_safe.py.
csv_stream = exports_safe.csv_stream
xlsx_bytes = exports_safe.xlsx_bytes
