"""The one writer of every CSV and XLSX file the platform makes.

Text in a cell may come from outside (a school name from DUO, a venue name a coordinator
typed, a carrier name) and a spreadsheet would run it as a formula when it starts with
``=``, ``+``, ``-``, ``@``, a TAB or a CR (OWASP, "CSV injection"). So:

* CSV: such a text cell gets a leading ``'`` (the OWASP rule); numbers we write ourselves
  (``int``, ``float``, ``Decimal``) are written as numbers and stay numbers. By default in the
  Dutch convention (``;`` between cells, ``,`` as the decimal sign, UTF-8 with a BOM), which
  Dutch Excel and LibreOffice read as numbers; ``international=True`` gives ``,`` and ``.``.
* XLSX: every text cell is written as a string (``data_type 's'``, an inline string), never
  as a formula; a text that looks like a formula also gets the cell's "quote prefix" so that
  editing the cell in Excel or LibreOffice keeps it text. Only a :class:`Formula` we build
  ourselves is written as a formula.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Formula(str):
    """A formula we write ourselves (XLSX only); never made from user text."""


class Percent(float):
    """A share (0..1): a plain number in CSV, formatted as a percentage in XLSX."""


class Col(str):
    """A column header with an XLSX column width (in characters); plain text in CSV."""

    width: float | None

    def __new__(cls, label, width: float | None = None):
        obj = super().__new__(cls, label)
        obj.width = width
        return obj


PERCENT_FORMAT, FLOAT_FORMAT, INT_FORMAT = "0.0%", "#,##0.0", "#,##0"


def _number(value, decimal: str) -> str:
    if isinstance(value, bool) or isinstance(value, int):
        return str(int(value))
    text = f"{value:.10f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    if text in ("", "-"):
        text = "0"
    return text.replace(".", decimal) if decimal != "." else text


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could read this text as a formula (after optional whitespace)."""
    if not text:
        return False
    if text[0] in FORMULA_START:
        return True
    stripped = text.lstrip()
    return bool(stripped) and stripped[0] in FORMULA_START


def csv_cell(value, decimal: str = ","):
    """A cell as the CSV writer gets it: numbers written with the decimal sign, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return _number(value, decimal)
    text = value.isoformat() if isinstance(value, (date, datetime, time)) else str(value)
    return "'" + text if looks_like_formula(text) else text


def _writer(buf: io.StringIO, international: bool = False):
    return csv.writer(buf, delimiter="," if international else ";")


def csv_stream(header: list, rows: Iterable[list], *, international: bool = False) -> Iterator[str]:
    """A CSV in chunks, UTF-8 with a BOM so that Excel reads it: Dutch (``;`` and decimal ``,``)
    or, with ``international``, ``,`` and decimal ``.``."""
    buf = io.StringIO()
    writer = _writer(buf, international)
    decimal = "." if international else ","
    yield "\ufeff"  # so that Excel opens UTF-8 correctly
    writer.writerow([csv_cell(v, decimal) for v in header])
    for row in rows:
        writer.writerow([csv_cell(v, decimal) for v in row])
        if buf.tell() > 64_000:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def csv_text(header: list, rows: Iterable[list], *, international: bool = False) -> str:
    return "".join(csv_stream(header, rows, international=international))


def _xlsx_row(ws, row: Iterable, font=None):
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in row:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            cell = WriteOnlyCell(ws, value=float(value) if isinstance(value, Percent) else value)
            cell.number_format = (
                PERCENT_FORMAT if isinstance(value, Percent) else INT_FORMAT if isinstance(value, int) else FLOAT_FORMAT
            )
            cells.append(cell)
            continue
        if value is None or isinstance(value, (bool, date, datetime, time)):
            cells.append(value)
            continue
        if isinstance(value, Formula):
            cells.append(WriteOnlyCell(ws, value=str(value)))  # ours: openpyxl makes it a formula
            continue
        text = str(value)
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"  # text, never a formula, whatever it starts with
        if looks_like_formula(text):
            cell.quotePrefix = True
        if font is not None:
            cell.font = font
        cells.append(cell)
    ws.append(cells)


def xlsx_bytes(
    sheets: list[tuple[str, list, Iterable[list]]], definitions: list[tuple[str, str]] | None = None
) -> bytes:
    """A workbook written row by row (write-only mode keeps memory flat), returned as bytes.

    Every sheet has a bold, frozen header and column widths (a :class:`Col` gives its own,
    else the header's length); numbers get a number format (:class:`Percent` a percentage).
    ``definitions`` (term, meaning; the first pair is the header) become a last sheet
    "Definities"."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    wb = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        ws.freeze_panes = "A2"
        for i, label in enumerate(header, start=1):
            width = getattr(label, "width", None) or max(12, min(60, len(str(label)) + 3))
            ws.column_dimensions[get_column_letter(i)].width = width
        _xlsx_row(ws, header, font=bold)
        for row in rows:
            _xlsx_row(ws, row)
    if definitions:
        from openpyxl.cell import WriteOnlyCell

        ws = wb.create_sheet(title="Definities")
        ws.freeze_panes = "A2"
        ws.column_dimensions["A"].width = 40
        ws.column_dimensions["B"].width = 100
        _xlsx_row(ws, list(definitions[0]), font=bold)
        for term, meaning in definitions[1:]:
            cell = WriteOnlyCell(ws, value=str(meaning))
            cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            term_cell = WriteOnlyCell(ws, value=str(term))
            term_cell.data_type = "s"
            term_cell.alignment = Alignment(vertical="top")
            ws.append([term_cell, cell])
    with tempfile.TemporaryFile() as f:
        wb.save(f)
        f.seek(0)
        return f.read()
