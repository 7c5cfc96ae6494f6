"""The two headline figures against a hand count; the reach CSV in Dutch (and international)
notation read back with the locale's rules; the XLSX formats, widths and definitions."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.reporting.reach import Filters, headline, school_rows
from tests import factories
from tests.reporting.test_reach import YEAR, data  # noqa: F401  (the hand-computed data set)


@pytest.fixture
def counted(data):  # noqa: F811
    """The data set of test_reach, with school D's enrolment (25 per groep) too:
    reached schools A (30 per groep, real), C (no enrolment data), D (25 per groep); B not reached.
    A reached groep 7: 27 + 10 (half of the 7/8 class of 20), groep 8: 10; D groep 8: 20."""
    region, s = data
    factories.enrol(s["d"], YEAR, per_groep=25)
    db.session.flush()
    return region, s


@pytest.mark.parametrize(
    "groepen, pupils, enrolled",
    [
        ("3-8", 27 + 10 + 10 + 20, 6 * 30 + 6 * 25),
        ("5-8", 67, 4 * 30 + 4 * 25),
        ("6-8", 67, 3 * 30 + 3 * 25),
    ],
)
def test_headline_figures_match_a_hand_count(counted, groepen, pupils, enrolled):
    region, _s = counted
    head = headline(school_rows(Filters(YEAR, region.id)), groepen)
    assert (head["schools"], head["schools_reached"], head["share_schools"]) == (4, 3, 0.75)
    assert (head["pupils_reached"], head["pupils_enrolled"]) == (pupils, enrolled)
    assert head["share_pupils"] == pytest.approx(pupils / enrolled)
    assert head["schools_without_enrolment"] == 1  # C: reached, no enrolment, left out of the second figure


def test_headline_on_the_dashboard_in_the_api_and_the_xlsx(client, login, counted):
    region, _s = counted
    leader = factories.user("programme_leader", region=region)
    h = factories.auth_header(leader)
    db.session.commit()
    login(leader)
    page = client.get(f"/bereik/?school_year={YEAR}")
    assert page.status_code == 200
    assert "<strong>75%</strong>" in page.text and "(3 van 4 scholen bereikt)" in page.text
    assert f"<strong>{round(67 / 330 * 100)}%</strong>" in page.text and "groep 3–8 in die scholen" in page.text
    six = client.get(f"/bereik/?school_year={YEAR}&groepen=6-8")
    assert f"<strong>{round(67 / 165 * 100)}%</strong>" in six.text and "groep 6–8" in six.text
    assert client.get(f"/bereik/?school_year={YEAR}&groepen=1-2").status_code == 400
    api = client.get(f"/api/v1/reach?school_year={YEAR}&groepen=5-8", headers=h).get_json()
    assert api["headline"]["share_schools"] == 0.75 and api["headline"]["pupils_enrolled"] == 220
    assert client.get(f"/api/v1/reach?school_year={YEAR}&groepen=x", headers=h).status_code == 422
    wb = load_workbook(io.BytesIO(client.get(f"/bereik/export/kerncijfers.xlsx?school_year={YEAR}").data))
    ws = wb["kerncijfers"]
    first = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(2, 7)}
    share = first["Aandeel leerlingen groep 3–8 bereikt in de bereikte scholen"]
    assert share.value == pytest.approx(67 / 330, abs=1e-4) and share.number_format == "0.0%"
    assert first["Aandeel scholen van de regio bereikt"].value == 0.75


def _dutch_number(text: str) -> float:
    """A number as Dutch LibreOffice/Excel reads it: ',' decimal sign, no '.' (that would be text)."""
    assert "." not in text, f"{text!r} would be read as text in the Dutch locale"
    return float(text.replace(",", "."))


def test_reach_csv_is_dutch_by_default_and_international_on_request(client, login, counted):
    region, _s = counted
    leader = factories.user("programme_leader", region=region)
    db.session.commit()
    login(leader)
    raw = client.get(f"/bereik/export/scholen.csv?school_year={YEAR}").data
    assert raw.startswith("\ufeff".encode())  # UTF-8 with a BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, by_name = rows[0], {r[1]: r for r in rows[1:]}
    share, km = header.index("Aandeel bereikt"), header.index("Afstand tot dichtstbijzijnde locatie (km)")
    assert _dutch_number(by_name["A"][share]) == pytest.approx(47 / 240, abs=1e-4)
    assert "," in by_name["A"][share] and 4 < _dutch_number(by_name["A"][km]) < 5
    assert by_name["A"][header.index("Werelden")] == "Hi-tech & Science"  # the name, not hitech_science
    key = dict(
        csv.reader(
            io.StringIO(client.get(f"/bereik/export/kerncijfers.csv?school_year={YEAR}").data.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert _dutch_number(key["Aandeel scholen bereikt"]) == 0.75

    intl = client.get(f"/bereik/export/scholen.csv?school_year={YEAR}&notatie=internationaal").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(intl), delimiter=","))
    a = {r[1]: r for r in rows[1:]}["A"]
    assert float(a[share]) == pytest.approx(47 / 240, abs=1e-4) and "," not in a[share]


def test_xlsx_has_formats_widths_a_frozen_header_world_names_and_definitions(client, login, counted):
    region, _s = counted
    leader = factories.user("programme_leader", region=region)
    db.session.commit()
    login(leader)
    wb = load_workbook(io.BytesIO(client.get(f"/bereik/export/scholen.xlsx?school_year={YEAR}").data))
    ws = wb["scholen"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    header = [c.value for c in ws[1]]
    assert ws.column_dimensions["B"].width >= 30  # the school's name
    a = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "A")
    share = a[header.index("Aandeel bereikt")]
    assert share.number_format == "0.0%" and share.value == pytest.approx(47 / 240, abs=1e-4)
    assert a[header.index("Leerlingen bereikt")].number_format == "#,##0"
    assert a[header.index("Afstand tot dichtstbijzijnde locatie (km)")].number_format == "#,##0.0"
    assert a[header.index("Werelden")].value == "Hi-tech & Science"
    assert wb["groepen"]["D2"].number_format in ("0.0%", "General")  # groep 1: no enrolment share → empty
    defs = {r[0]: r[1] for r in wb["Definities"].iter_rows(min_row=2, values_only=True)}
    assert "Bereikt (geweest)" in defs and "Aandeel leerlingen bereikt in de bereikte scholen" in defs
    codes = {"hitech_science", "attended", "confirmed", "no_show"}
    for sheet in wb.worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert not codes & {str(v) for v in row}, (sheet.title, row)
