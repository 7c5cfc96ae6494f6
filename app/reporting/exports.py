"""Exports of the reach tables as CSV (streamed) and XLSX (openpyxl write-only)."""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _


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
                    for r in rows if not r.classes)


def csv_stream(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    yield "\ufeff"  # so that Excel opens UTF-8 correctly
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buf.tell() > 64_000:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def xlsx_bytes(sheets: list[tuple[str, list[str], Iterable[list]]]) -> bytes:
    """A workbook written row by row (write-only mode keeps memory flat), returned as bytes."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        ws.append(header)
        for row in rows:
            ws.append(row)
    with tempfile.TemporaryFile() as f:
        wb.save(f)
        f.seek(0)
        return f.read()
