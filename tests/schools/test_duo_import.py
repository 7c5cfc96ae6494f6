"""DUO import: the real files, older formats, the per-age file, damaged files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.schools.duo import decode, groep_for_age, import_files, location_code, parse_count
from app.schools.enrolment import enrolment_by_groep, even_split
from app.schools.models import CoordSource, GroepEnrolment, School, SchoolKind, SchoolYearCount

ROOT = Path(__file__).resolve().parents[2]
LOCATIONS = ROOT / "data/duo/02.-alle-schoolvestigingen-basisonderwijs.csv"
TOTALS = ROOT / "data/duo/06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv"
DATA = Path(__file__).parent / "data"
AGES = DATA / "01.-leerlingen-po-soort-po-cluster-leeftijd-2024-2025.csv"


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.slow
def test_real_files_import_all_locations_and_twice_changes_nothing(app):
    report = import_files([TOTALS, LOCATIONS])  # order does not matter: locations go first
    assert report.ok, [f.error for f in report.files]
    locations = next(f for f in report.files if f.kind == "locations")
    assert (locations.rows, locations.created, locations.bad_rows) == (6122, 6122, [])
    assert count(School, School.kind == SchoolKind.BO) == 6122
    assert count(School, School.latitude.is_not(None)) >= 6000
    assert count(School, School.coord_source == CoordSource.PC4) >= 6000
    # special education is kept and marked
    assert count(School, School.kind.in_([SchoolKind.SBO, SchoolKind.SO])) > 100
    school = db.session.scalar(select(School).where(School.location_code == "32JK00"))
    assert (
        school.name == "BBS de Verwondering" and school.postcode == "9306 TC" and school.holiday_region.value == "noord"
    )
    assert school.municipality_code == "1699" and school.corop_code == "07"
    n_counts = count(SchoolYearCount)
    assert n_counts > 6000 * 5
    latest = db.session.scalar(
        select(SchoolYearCount).where(SchoolYearCount.school_id == school.id, SchoolYearCount.school_year == 2025)
    )
    assert latest is not None and latest.pupils > 0
    per_groep = enrolment_by_groep([school.id], 2025)[school.id]
    assert sum(g.pupils for g in per_groep) == latest.pupils and all(g.estimated for g in per_groep)

    again = import_files([LOCATIONS, TOTALS])
    assert all(f.created == 0 and f.updated == 0 for f in again.files)
    assert count(SchoolYearCount) == n_counts


def _two_locations(tmp_path) -> Path:
    lines = LOCATIONS.read_bytes().splitlines(keepends=True)[:3]
    path = tmp_path / "locations.csv"
    path.write_bytes(b"".join(lines))
    return path


def test_per_age_file_with_suppressed_cells(app, tmp_path):
    assert import_files([_two_locations(tmp_path)]).ok
    report = import_files([AGES])
    rep = report.files[0]
    assert rep.kind == "ages" and rep.years == [2024]
    assert [(b.line, "ongeldige vestigingscode" in b.reason) for b in rep.bad_rows] == [(4, True)]
    school = db.session.scalar(select(School).where(School.location_code == "32JK00"))
    rows = {e.groep: e for e in db.session.scalars(select(GroepEnrolment).where(GroepEnrolment.school_id == school.id))}
    # ages 3 and 4 -> groep 1; 6 is "<5" -> 2 estimated; 11, 12 and 13 ("<5") -> groep 8
    assert rows[1].pupils == 12 and not rows[1].estimated
    assert rows[3].pupils == 2 and rows[3].estimated
    assert rows[8].pupils == 19 + 3 + 2 and rows[8].estimated
    assert enrolment_by_groep([school.id], 2024)[school.id][0].estimated is False
    again = import_files([AGES]).files[0]
    assert again.updated == 0 and again.unchanged == 2


def test_older_column_names_bom_comma_and_bad_rows(app):
    rep = import_files([DATA / "older-locations.csv"]).files[0]
    assert rep.kind == "locations" and rep.created == 2
    assert [b.line for b in rep.bad_rows] == [4, 5]
    assert "ongeldige instellingscode" in rep.bad_rows[0].reason
    assert "velden in plaats van" in rep.bad_rows[1].reason
    school = db.session.scalar(select(School).where(School.location_code == "99ZZ01"))
    assert school.postcode == "7001 AB" and school.name == "Oude School Twee"
    assert school.latitude is not None and school.coord_source == CoordSource.PC4
    assert db.session.scalar(select(School.name).where(School.location_code == "99ZZ00")) == "Oude School Één"


def test_unusable_file_imports_nothing(app, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"a;b;c\r\n1;2;3\r\n")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    report = import_files([junk, empty, tmp_path / "missing.csv"])
    assert not report.ok and all(f.error for f in report.files)
    assert count(School) == 0


def test_manual_coordinates_are_kept(app, tmp_path):
    path = _two_locations(tmp_path)
    import_files([path])
    school = db.session.scalar(select(School).where(School.location_code == "32JK00"))
    school.latitude, school.longitude, school.coord_source = 53.0, 6.5, CoordSource.MANUAL
    db.session.commit()
    import_files([path])
    db.session.refresh(school)
    assert (school.latitude, school.longitude) == (53.0, 6.5)


def test_cli_reports_summary_and_bad_rows(app, runner):
    result = runner.invoke(args=["schools", "import-duo", str(DATA / "older-locations.csv")])
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output and "line 4: ongeldige instellingscode" in result.output


def test_pure_helpers():
    assert decode("Één".encode("cp1252")) == "Één"
    assert decode(b"\xef\xbb\xbfabc") == "abc"
    assert location_code("03WU", "1") == "03WU01"
    with pytest.raises(ValueError):
        location_code("03WU", "04XX01")
    assert parse_count("<5") == (2, True) and parse_count(" ") == (0, False)
    assert [groep_for_age(a) for a in (3, 4, 7, 11, 12)] == [1, 1, 4, 8, 8]
    assert even_split(17) == [3, 2, 2, 2, 2, 2, 2, 2] and sum(even_split(250)) == 250
