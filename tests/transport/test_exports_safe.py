"""The one safe writer of CSV and XLSX: text from outside never becomes a live formula."""

from __future__ import annotations

import csv
import io
import re
import zipfile

from app import exports_safe
from app.extensions import db
from tests import factories

EVIL = '=HYPERLINK("http://x","y")'
PAYLOADS = [EVIL, "@SUM(1+1)", "-2+3", "+1", "=cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "  =1+1"]


def _csv_rows(text: str):
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_csv_cells_that_would_start_a_formula_get_a_quote_numbers_stay_numbers():
    text = exports_safe.csv_text(["naam", "aantal"], [[p, 3] for p in PAYLOADS] + [["Gewone school", -2.5]])
    rows = _csv_rows(text)
    for row, payload in zip(rows[1:], PAYLOADS, strict=False):
        assert row[0] == "'" + payload and row[1] == "3"
    assert rows[-1] == ["Gewone school", "-2,5"]  # the Dutch decimal sign


def test_xlsx_text_is_text_never_a_formula_unless_ours():
    data = exports_safe.xlsx_bytes(
        [("blad", ["naam", "aantal"], [[p, 3] for p in PAYLOADS] + [[exports_safe.Formula("=SUM(B2:B3)"), 1]])]
    )
    xml = _sheet_xml(data)
    assert xml.count("<f>") == 1 and "<f>SUM(B2:B3)</f>" in xml  # only the formula we wrote ourselves
    assert "HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in xml or 'HYPERLINK("http://x","y")' in xml
    assert re.search(r't="inlineStr"><is><t>=HYPERLINK', xml)
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data))["blad"]
    assert ws["A2"].value == EVIL and ws["A2"].data_type == "s" and ws["B2"].value == 3


def test_reach_exports_and_bus_order_carry_no_live_formula(transport, client, login):
    from sqlalchemy import select

    from app.booking.models import Booking
    from app.timeutil import to_local
    from app.transport.models import BusPlan  # noqa: F401
    from tests.transport.conftest import book, school_at

    region, venue, session = transport["region"], transport["venue"], transport["session"]
    venue.name = EVIL
    school, teacher = school_at(region, 12, name=EVIL)
    school.phone, school.website = "-2+3", "@SUM(1+1)"
    # a school not reached (nor booked): the recruitment list's row
    other, _teacher = school_at(region, 3, name=EVIL)
    other.phone, other.website = "-2+3", "@SUM(1+1)"
    db.session.commit()
    book(teacher, school, session, pupils=12, adults=1)
    assert db.session.scalar(select(Booking).where(Booking.school_id == school.id)) is not None
    day = to_local(session.starts_at).date().isoformat()
    leader = factories.user("programme_leader", region=region)
    db.session.commit()

    login(transport["coord"])
    order = client.get(f"/vervoer/bestelling/{day}.csv")
    assert order.status_code == 200
    rows = _csv_rows(order.get_data(as_text=True))
    header = rows[0]
    line = [r for r in rows[1:] if r[header.index("school")].endswith(EVIL)][0]
    assert line[header.index("school")] == "'" + EVIL and line[header.index("bestemming")] == "'" + EVIL
    assert not any(cell.lstrip()[:1] in "=+-@" for r in rows for cell in r if cell)
    client.post("/uitloggen")

    login(leader)
    for table in ("scholen", "niet-bereikt"):
        resp = client.get(f"/bereik/export/{table}.csv")
        assert resp.status_code == 200, table
        rows = _csv_rows(resp.get_data(as_text=True))
        assert "'" + EVIL in rows[1], table
        assert not any(c.lstrip()[:1] in "=+-@\t\r" for r in rows for c in r if c), table
    nr = _csv_rows(client.get("/bereik/export/niet-bereikt.csv").get_data(as_text=True))
    assert nr[1][3:5] == ["'-2+3", "'@SUM(1+1)"]
    xlsx = client.get("/bereik/export/scholen.xlsx")
    assert xlsx.status_code == 200
    xml = _sheet_xml(xlsx.data)
    assert "<f>" not in xml and "<f " not in xml
    assert "=HYPERLINK(" in xml  # there, as a string
