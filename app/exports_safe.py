"""The one writer of every CSV and XLSX file the platform makes.

Text in a cell may come from outside (a school name from DUO, a venue name a coordinator
typed, a carrier name) and a spreadsheet would run it as a formula when it starts with
``=``, ``+``, ``-``, ``@``, a TAB or a CR (OWASP, "CSV injection"). So:

* CSV: such a text cell gets a leading ``'`` (the OWASP rule); numbers we write ourselves
  (``int``, ``float``, ``Decimal``) are written as they are and stay numbers.
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


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could read this text as a formula (after optional whitespace)."""
    if not text:
        return False
    if text[0] in FORMULA_START:
        return True
    stripped = text.lstrip()
    return bool(stripped) and stripped[0] in FORMULA_START


def csv_cell(value):
    """A cell as the CSV writer gets it: numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal)):
        return value
    text = value.isoformat() if isinstance(value, (date, datetime, time)) else str(value)
    return "'" + text if looks_like_formula(text) else text


def _writer(buf: io.StringIO):
    return csv.writer(buf, delimiter=";")


def csv_stream(header: list, rows: Iterable[list]) -> Iterator[str]:
    """A CSV (semicolon-separated, UTF-8 with a BOM so that Excel reads it) in chunks."""
    buf = io.StringIO()
    writer = _writer(buf)
    yield "\ufeff"  # so that Excel opens UTF-8 correctly
    writer.writerow([csv_cell(v) for v in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        if buf.tell() > 64_000:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def csv_text(header: list, rows: Iterable[list]) -> str:
    return "".join(csv_stream(header, rows))


def _xlsx_row(ws, row: Iterable):
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in row:
        if value is None or isinstance(value, (bool, int, float, Decimal, date, datetime, time)):
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
        cells.append(cell)
    ws.append(cells)


def xlsx_bytes(sheets: list[tuple[str, list, Iterable[list]]]) -> bytes:
    """A workbook written row by row (write-only mode keeps memory flat), returned as bytes."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        _xlsx_row(ws, header)
        for row in rows:
            _xlsx_row(ws, row)
    with tempfile.TemporaryFile() as f:
        wb.save(f)
        f.seek(0)
        return f.read()
