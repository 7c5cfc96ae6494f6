"""School data through the web: DUO uploads, assigning schools to a region, holidays."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.auth.models import Role
from app.extensions import db
from app.schools.models import HolidayPeriod, School
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
LOCATIONS = ROOT / "data/duo/02.-alle-schoolvestigingen-basisonderwijs.csv"
HOLIDAYS_HEADER = b"holiday_region,school_year,name,starts_on,ends_on\n"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _locations_with_a_bad_row() -> bytes:
    lines = LOCATIONS.read_bytes().splitlines(keepends=True)
    return b"".join(lines[:3]) + b"Utrecht;123;kapotte regel\n"


def _admin(login):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    return admin


def _upload(client, url, name, content, field="files", **data):
    return client.post(url, data={field: (io.BytesIO(content), name), **data}, content_type="multipart/form-data")


def test_duo_upload_imports_and_reports_bad_rows_by_line(client, app, login):
    _admin(login)
    assert client.get("/regiobeheer/schoolgegevens/duo").status_code == 200
    resp = _upload(
        client, "/regiobeheer/schoolgegevens/duo", "vestigingen.csv", _locations_with_a_bad_row(), from_year="2019"
    )
    assert resp.status_code == 200, resp.text[:2000]
    assert "vestigingen.csv" in resp.text and "vestigingen" in resp.text
    assert _count(School) == 2
    assert "<td>4</td>" in resp.text and "velden in plaats van" in resp.text  # line 4 is bad, and says why
    again = _upload(
        client, "/regiobeheer/schoolgegevens/duo", "vestigingen.csv", _locations_with_a_bad_row(), from_year="2019"
    )
    assert again.status_code == 200 and _count(School) == 2
    assert "<dt>Nieuw</dt><dd>0</dd>" in again.text and "<dt>Ongewijzigd</dt><dd>2</dd>" in again.text


@pytest.mark.parametrize(
    "name, content, status, message",
    [
        ("vestigingen.xlsx", b"PK\x03\x04 not a csv", 422, "Alleen CSV-bestanden"),
        ("leeg.csv", b"", 422, "Niet ingelezen"),
        ("onzin.csv", b"\x00\x01\x02 binary \xff\xfe", 422, "Niet ingelezen"),
        ("andere-kolommen.csv", b"a;b;c\n1;2;3\n", 422, "Niet ingelezen"),
    ],
)
def test_bad_duo_upload_changes_nothing(client, app, login, name, content, status, message):
    _admin(login)
    resp = _upload(client, "/regiobeheer/schoolgegevens/duo", name, content, from_year="2019")
    assert resp.status_code == status and message in resp.text
    assert _count(School) == 0


def test_no_file_chosen_is_a_form_error(client, app, login):
    _admin(login)
    resp = client.post(
        "/regiobeheer/schoolgegevens/duo", data={"from_year": "2019"}, content_type="multipart/form-data"
    )
    assert resp.status_code == 422 and "Kies een of meer bestanden" in resp.text


def test_too_large_upload_is_refused_and_changes_nothing(client, app, login):
    _admin(login)
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2048
    try:
        resp = _upload(
            client,
            "/regiobeheer/schoolgegevens/duo",
            "vestigingen.csv",
            LOCATIONS.read_bytes()[:50_000],
            from_year="2019",
        )
        assert resp.status_code == 413 and "te groot" in resp.text
        holidays = _upload(
            client, "/regiobeheer/schoolgegevens/vakanties", "v.csv", HOLIDAYS_HEADER * 500, field="file"
        )
        assert holidays.status_code == 413 and "te groot" in holidays.text
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert _count(School) == 0 and _count(HolidayPeriod) == 0


def test_assign_schools_of_municipalities_to_a_region(client, app, login):
    region, other = factories.region(name="Doelregio"), factories.region()
    a = factories.school(None, municipality_code="0344", municipality_name="Utrecht", nodal_code="12")
    b = factories.school(other, municipality_code="0344", municipality_name="Utrecht", nodal_code="12")
    c = factories.school(None, municipality_code="0307", municipality_name="Amersfoort", nodal_code="13")
    _admin(login)
    page = client.get("/regiobeheer/schoolgegevens/regio")
    assert page.status_code == 200 and "Amersfoort" in page.text and "0344" in page.text
    resp = client.post(
        "/regiobeheer/schoolgegevens/regio",
        data={"region": region.id, "area": "municipality", "codes": "344", "confirm": "1"},
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "2 scholen zijn toegewezen aan Doelregio" in resp.text
    db.session.expire_all()
    assert [db.session.get(School, s.id).region_id for s in (a, b, c)] == [region.id, region.id, None]

    bad = client.post(
        "/regiobeheer/schoolgegevens/regio", data={"region": other.id, "area": "nodal", "codes": "13, 99"}
    )
    assert bad.status_code == 422 and "Geen scholen met deze code(s): 99" in bad.text and 'id="codes-error"' in bad.text
    db.session.expire_all()
    assert db.session.get(School, c.id).region_id is None  # nothing changed
    ok = client.post(
        "/regiobeheer/schoolgegevens/regio", data={"region": other.id, "area": "nodal", "codes": "13", "confirm": "1"}
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(School, c.id).region_id == other.id


def test_holidays_upload_reports_and_the_page_lists_them_per_region(client, app, login):
    _admin(login)
    content = (
        b"# comment line\n"
        + HOLIDAYS_HEADER
        + b"noord,2026,Herfstvakantie,2026-10-17,2026-10-25\n"
        + b"zuid,2026,Herfstvakantie,2026-10-10,2026-10-18\n"
        + b"west,2026,Herfstvakantie,2026-10-10,2026-10-18\n"
        + b"midden,2026,Kerstvakantie,2026-12-19,2026-12-01\n"
    )
    resp = _upload(client, "/regiobeheer/schoolgegevens/vakanties", "vakanties.csv", content, field="file")
    assert resp.status_code == 200
    assert "vakanties.csv: 2 nieuw, 0 bijgewerkt, 2 foute regels" in resp.text
    assert "<td>5</td>" in resp.text and "<td>6</td>" in resp.text  # lines of the file, the comment counted
    assert _count(HolidayPeriod) == 2
    changed = HOLIDAYS_HEADER + b"noord,2026,Herfstvakantie,2026-10-18,2026-10-26\n"
    resp = _upload(client, "/regiobeheer/schoolgegevens/vakanties", "vakanties.csv", changed, field="file")
    assert "0 nieuw, 1 bijgewerkt, 0 foute regels" in resp.text

    page = client.get("/regiobeheer/schoolgegevens/vakanties?school_year=2026")
    assert page.status_code == 200 and "2026/27" in page.text
    noord = page.text.split("Regio Noord")[1].split("</table>")[0]
    assert "Herfstvakantie" in noord and "18 okt" in noord
    midden = page.text.split("Regio Midden")[1].split("</table>")[0]
    assert "Geen vakanties" in midden


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("vakanties.txt", HOLIDAYS_HEADER, "Alleen CSV-bestanden"),
        ("vakanties.csv", b"regio;jaar;naam\nnoord;2026;Herfst\n", "geen vakantiebestand"),
        ("vakanties.csv", b"", "geen vakantiebestand"),
        ("vakanties.csv", b"\x89PNG\r\n\x1a\n\x00\x00binary", "geen tekstbestand"),
    ],
)
def test_bad_holidays_file_changes_nothing(client, app, login, name, content, message):
    _admin(login)
    resp = _upload(client, "/regiobeheer/schoolgegevens/vakanties", name, content, field="file")
    assert resp.status_code == 422 and message in resp.text
    assert 'id="file-error"' in resp.text
    assert _count(HolidayPeriod) == 0


def test_school_data_is_for_administrators_only(client, app, login):
    region = factories.region()
    school, venue = factories.school(region), factories.venue(region)
    people = [
        factories.user(Role.PROGRAMME_LEADER, region=region),
        factories.teacher(school),
        factories.user(Role.COORDINATOR, region=region, venues=[venue]),
    ]
    db.session.commit()
    for person in people:
        login(person)
        for url in (
            "/regiobeheer/schoolgegevens/duo",
            "/regiobeheer/schoolgegevens/vakanties",
        ):
            assert client.get(url).status_code == 403, (person.role, url)
        # reassigning municipalities: a programme leader for their own region (tests/admin/test_region_history.py)
        expected = 200 if person.role == Role.PROGRAMME_LEADER else 403
        assert client.get("/regiobeheer/schoolgegevens/regio").status_code == expected, person.role
        assert (
            _upload(
                client,
                "/regiobeheer/schoolgegevens/vakanties",
                "v.csv",
                HOLIDAYS_HEADER + b"noord,2026,X,2026-10-17,2026-10-25\n",
                field="file",
            ).status_code
            == 403
        )
        assert client.post(
            "/regiobeheer/schoolgegevens/regio", data={"region": region.id, "area": "municipality", "codes": "0344"}
        ).status_code == (422 if person.role == Role.PROGRAMME_LEADER else 403)  # the leader: no such schools
        client.post("/uitloggen")
    assert _count(HolidayPeriod) == 0
