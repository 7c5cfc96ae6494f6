"""Import of DUO's open school data: locations, pupil totals per year, pupils per age.

Three kinds of file are recognised by their header:

* locations ("alle schoolvestigingen basisonderwijs"): one row per school location with
  address, municipality, COROP and nodal area and holiday region;
* historical totals ("historisch overzicht aantal leerlingen per schoolvestiging"):
  LEERLINGEN_YYYY per location, peildatum 1 October YYYY = school year YYYY/YY+1;
* pupils per age ("leerlingen po … leeftijd"): LEEFTIJD_N columns, with counts of 1–4
  published as ``<5``; groep ≈ age − 3 on 1 October.

Encodings (UTF-8 with or without BOM, UTF-16 with a BOM, Windows-1252) and separators
(``;`` ``,`` tab) are detected; current and older column names are both understood. Each
file is one transaction: it imports whole (bad rows reported with their line number and
skipped) or, when it cannot be read at all, not at all. A second run changes nothing.

Files are read as a stream, row by row (never whole into memory): a 32 MB file stays
within the bound stated in the README (tests/schools/test_duo_memory.py measures it).
Reasons for bad rows and unreadable files are in Dutch (gettext), for the upload page.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import HolidayRegion
from app.extensions import db
from app.inputs import clean_name
from app.schools.geo import pc4_centroids
from app.schools.models import CoordSource, GroepEnrolment, School, SchoolKind, SchoolYearCount
from app.timeutil import school_year_of
from app.schools.names import place_name

Progress = Callable[[int, int], None]


class DuoFileError(Exception):
    """The file as a whole cannot be imported (unreadable, unknown kind)."""


@dataclass
class BadRow:
    line: int
    reason: str


@dataclass
class FileReport:
    path: str
    kind: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    years: list[int] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)  # the first MAX_BAD_ROWS of them
    bad_total: int = 0
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error

    def bad(self, line: int, reason: str) -> None:
        self.bad_total += 1
        if len(self.bad_rows) < MAX_BAD_ROWS:
            self.bad_rows.append(BadRow(line, reason))


MAX_BAD_ROWS = 1000  # kept per file for the report; the rest are counted


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)


# ---------------------------------------------------------------- reading files


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, UTF-16 with a BOM, else Windows-1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


CHUNK = 1 << 20


def sniff_encoding(path: str | Path) -> tuple[str, int]:
    """The file's encoding and its number of lines, in one pass over 1 MB chunks.

    UTF-16 is read when it has a byte-order mark (Excel's "Unicode text"); without one its
    NUL bytes give it away and it is refused with that reason, as is any other file with
    NUL bytes (not a text file; PostgreSQL cannot store them). Otherwise UTF-8 (with or
    without BOM) when every byte decodes, else Windows-1252."""
    import codecs

    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            f.seek(0)
            lines = 0
            while chunk := f.read(CHUNK):
                lines += chunk.count(b"\n")  # one of the two bytes of a UTF-16 line feed
            return "utf-16", lines
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8, lines, first = True, 0, True
        while chunk := f.read(CHUNK):
            if b"\x00" in chunk:
                if first and chunk[:200].count(b"\x00") * 3 > len(chunk[:200]):
                    raise DuoFileError(
                        _(
                            "het bestand lijkt UTF-16 zonder byte-order mark; sla het op als "
                            "CSV (UTF-8) of als Unicode-tekst met BOM"
                        )
                    )
                raise DuoFileError(_("het bestand bevat NUL-tekens: het is geen tekstbestand (CSV)"))
            first = False
            lines += chunk.count(b"\n")
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    return ("utf-8-sig" if utf8 else "cp1252"), lines


def open_text(path: str | Path, encoding: str):
    """The file as a stream of text lines (undecodable Windows-1252 bytes replaced)."""
    return open(path, encoding=encoding, errors="replace" if encoding == "cp1252" else "strict", newline="")


def sniff_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", "\t", ",")}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        raise DuoFileError(_("geen scheidingsteken (; , of tab) gevonden in de eerste regel"))
    return sep


def norm_header(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[_\-]", " ", name.strip().upper()))


def iter_rows(lines: Iterable[str]) -> tuple[list[str], Iterable[tuple[int, dict[str, str]]]]:
    """Header (normalised) and a generator of rows as (line number, {column: stripped value}).
    A row with another number of fields, or with a NUL character, is {"__error__": reason}."""
    lines = iter(lines)
    first = next(lines, "")
    if not first.strip():
        raise DuoFileError(_("het bestand is leeg"))
    sep = sniff_separator(first)
    header = [norm_header(h) for h in next(csv.reader([first], delimiter=sep, quotechar='"'))]

    def rows():
        reader = csv.reader(lines, delimiter=sep, quotechar='"')
        line_no = 1
        for values in reader:
            line_no += 1  # a quoted field over several lines counts as one line, as before
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                yield line_no, {"__error__": _("%(n)s velden in plaats van %(m)s", n=len(values), m=len(header))}
                continue
            if any("\x00" in v for v in values):
                yield line_no, {"__error__": _("de regel bevat een NUL-teken")}
                continue
            yield line_no, {h: v.strip() for h, v in zip(header, values, strict=False)}

    return header, rows()


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header (normalised) and rows as (line number, {column: stripped value}) of a text."""
    header, rows = iter_rows(io.StringIO(text))
    return header, list(rows)


# Column names, current first, then older DUO spellings (all normalised).
COLUMNS = {
    "brin": ["INSTELLINGSCODE", "BRIN NUMMER", "BRINNUMMER", "BRIN"],
    "location": ["VESTIGINGSCODE", "VESTIGINGSNUMMER", "VESTIGINGS NUMMER"],
    "name": ["VESTIGINGSNAAM", "NAAM VESTIGING", "INSTELLINGSNAAM VESTIGING", "INSTELLINGSNAAM"],
    "street": ["STRAATNAAM"],
    "number": ["HUISNUMMER TOEVOEGING", "HUISNUMMER"],
    "postcode": ["POSTCODE", "POSTCODE VESTIGING"],
    "city": ["PLAATSNAAM", "PLAATSNAAM VESTIGING"],
    "municipality_code": ["GEMEENTENUMMER", "GEMEENTECODE VESTIGING", "GEMEENTECODE"],
    "municipality_name": ["GEMEENTENAAM", "GEMEENTENAAM VESTIGING"],
    "province": ["PROVINCIE"],
    "denomination": ["DENOMINATIE", "DENOMINATIE VESTIGING"],
    "authority": ["BEVOEGD GEZAG NUMMER"],
    "phone": ["TELEFOONNUMMER"],
    "website": ["INTERNETADRES"],
    "corop_code": ["COROPGEBIED CODE"],
    "corop_name": ["COROPGEBIED NAAM"],
    "nodal_code": ["NODAAL GEBIED CODE"],
    "nodal_name": ["NODAAL GEBIED NAAM"],
    "holiday_region": ["VAKANTIEREGIO"],
    "kind": ["SOORT VESTIGING", "SOORT PO"],
    "latitude": ["LATITUDE", "BREEDTEGRAAD", "LAT"],
    "longitude": ["LONGITUDE", "LENGTEGRAAD", "LON", "LNG"],
    "peildatum": ["PEILDATUM"],
}


def column_map(header: list[str]) -> dict[str, str]:
    present = set(header)
    found = {}
    for key, names in COLUMNS.items():
        for name in names:
            if name in present:
                found[key] = name
                break
    return found


YEAR_COL = re.compile(r"^LEERLINGEN (\d{4})$")
AGE_COL = re.compile(r"^LEEFTIJD (\d{1,2})( .*)?$")


def detect_kind(header: list[str]) -> str:
    cols = column_map(header)
    if "brin" not in cols or "location" not in cols:
        raise DuoFileError(
            _("geen DUO-schoolbestand: de kolommen INSTELLINGSCODE/BRIN NUMMER en VESTIGINGSCODE ontbreken")
        )
    if any(YEAR_COL.match(h) for h in header):
        return "totals"
    if any(AGE_COL.match(h) for h in header):
        return "ages"
    if "postcode" in cols and "street" in cols:
        return "locations"
    raise DuoFileError(_("onbekend DUO-bestand: geen vestigingen en geen kolommen LEERLINGEN_JJJJ of LEEFTIJD_N"))


def location_code(brin: str, loc: str) -> str:
    """The 6-character location code; the per-age file may give only the 2-digit suffix."""
    brin, loc = brin.strip().upper(), loc.strip().upper()
    if len(loc) <= 2 and loc.isdigit():
        loc = brin + loc.zfill(2)
    if not re.fullmatch(r"[0-9A-Z]{4}", brin):
        raise ValueError(_("ongeldige instellingscode %(code)s", code=repr(brin[:20])))
    if not re.fullmatch(r"[0-9A-Z]{4}\d{2}", loc) or not loc.startswith(brin):
        raise ValueError(_("ongeldige vestigingscode %(code)s", code=repr(loc[:20])))
    return loc


def parse_count(value: str) -> tuple[int, bool]:
    """A pupil count; ``<5`` (1–4, suppressed) counts as 2 and is marked estimated."""
    value = value.strip()
    if value in ("", "-"):
        return 0, False
    if value.replace(" ", "") == "<5":
        return 2, True
    try:
        n = int(value) if len(value) <= 9 else -1
    except ValueError:
        n = -1
    if n < 0:
        raise ValueError(_("geen aantal leerlingen: %(value)s", value=repr(value[:20])))
    return n, False


def parse_peildatum(value: str) -> date:
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%Y%m%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("onleesbare PEILDATUM %(value)s", value=repr(value[:20])))


def groep_for_age(age: int) -> int:
    """Groep from age on 1 October: about age − 3, within 1..8."""
    return min(8, max(1, age - 3))


def normalise_postcode(value: str) -> str:
    pc = value.replace(" ", "").upper()
    return f"{pc[:4]} {pc[4:]}" if re.fullmatch(r"\d{4}[A-Z]{2}", pc) else value.strip()


KIND_MAP = {
    "BO": SchoolKind.BO,
    "SBO": SchoolKind.SBO,
    "SO": SchoolKind.SO,
    "SO/VSO": SchoolKind.SO,
    "VSO": SchoolKind.VSO,
}
HOLIDAY_MAP = {"noord": HolidayRegion.NOORD, "midden": HolidayRegion.MIDDEN, "zuid": HolidayRegion.ZUID}


# ---------------------------------------------------------------- importing


def import_files(
    paths: Iterable[str | Path], *, from_year: int = 2019, progress: Progress | None = None
) -> ImportReport:
    """Import DUO files, each in its own transaction (committed here). Locations first."""
    import logging

    loaded = []
    report = ImportReport()
    for path in paths:
        rep = FileReport(path=str(path))
        report.files.append(rep)
        try:
            encoding, lines = sniff_encoding(path)
            with open_text(path, encoding) as f:
                header, _rows = iter_rows(f)
            rep.kind = detect_kind(header)
            loaded.append((rep, path, encoding, lines))
        except OSError:
            rep.error = _("het bestand kon niet worden geopend")
        except UnicodeError:
            rep.error = _("het bestand is niet in één tekencodering (UTF-8, UTF-16 of Windows-1252)")
        except csv.Error as exc:
            rep.error = _("het bestand is geen leesbare CSV: %(reason)s", reason=str(exc)[:200])
        except DuoFileError as exc:
            rep.error = str(exc)
    order = {"locations": 0, "totals": 1, "ages": 2}
    loaded.sort(key=lambda item: order[item[0].kind])
    for rep, path, encoding, lines in loaded:
        try:
            with open_text(path, encoding) as f:
                header, rows = iter_rows(f)
                if rep.kind == "locations":
                    _import_locations(rep, header, rows, progress, lines)
                elif rep.kind == "totals":
                    _import_totals(rep, header, rows, from_year, progress, lines)
                else:
                    _import_ages(rep, header, rows, progress, lines)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            if isinstance(exc, csv.Error):
                rep.error = _("het bestand is geen leesbare CSV: %(reason)s", reason=str(exc)[:200])
            elif isinstance(exc, UnicodeError):
                rep.error = _("het bestand is niet in één tekencodering (UTF-8, UTF-16 of Windows-1252)")
            else:  # the database refused a value: the log has the details, the page no SQL
                logging.getLogger(__name__).exception("DUO file %s not imported", rep.path)
                rep.error = _("de database weigerde een waarde uit dit bestand; er is niets ingelezen")
            rep.created = rep.updated = 0
    return report


def _schools_by_code() -> dict[str, School]:
    return {s.location_code: s for s in db.session.scalars(select(School))}


def _set(obj, values: dict) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _import_locations(rep: FileReport, header, rows, progress, total: int = 0) -> None:
    cols = column_map(header)
    schools = _schools_by_code()
    centroids = pc4_centroids()
    get = lambda row, key: row.get(cols[key], "") if key in cols else ""
    seen: set[str] = set()
    new: list[dict] = []
    for i, (line, row) in enumerate(rows, start=1):
        rep.rows = i
        if progress and i % 250 == 0:
            progress(i, max(i, total))
        if "__error__" in row:
            rep.bad(line, row["__error__"])
            continue
        try:
            code = location_code(get(row, "brin"), get(row, "location"))
            name = clean_name(get(row, "name"))
            if not name:
                raise ValueError(_("geen naam"))
            if code in seen:
                raise ValueError(_("vestiging %(code)s staat twee keer in het bestand", code=code))
            seen.add(code)
            postcode = normalise_postcode(get(row, "postcode"))
            values = {
                "brin": code[:4],
                "name": name[:200],
                "street": get(row, "street")[:200],
                "house_number": get(row, "number")[:20],
                "postcode": postcode[:7],
                "city": place_name(get(row, "city"))[:100],
                "municipality_code": get(row, "municipality_code").zfill(4)[:4],
                "municipality_name": place_name(get(row, "municipality_name"))[:100],
                "province": get(row, "province")[:50],
                "denomination": get(row, "denomination")[:100],
                "authority_number": get(row, "authority")[:10],
                "phone": get(row, "phone")[:30],
                "website": get(row, "website")[:200],
                "corop_code": get(row, "corop_code")[:4],
                "corop_name": get(row, "corop_name")[:100],
                "nodal_code": get(row, "nodal_code")[:4],
                "nodal_name": get(row, "nodal_name")[:100],
                "holiday_region": HOLIDAY_MAP.get(get(row, "holiday_region").lower()),
                "active": True,
            }
            lat, lon, source = _coordinates(row, cols, postcode, centroids)
        except ValueError as exc:
            rep.bad(line, str(exc))
            continue
        school = schools.get(code)
        if school is None:
            new.append(
                {
                    "location_code": code,
                    "kind": SchoolKind.BO,
                    **values,
                    "latitude": lat,
                    "longitude": lon,
                    "coord_source": source if lat is not None else None,
                }
            )
            rep.created += 1
            if len(new) >= 1000:  # written in batches and let go: memory stays bounded however long the file
                db.session.execute(School.__table__.insert(), new)
                new = []
            continue
        changed = _set(school, values)
        if school.coord_source != CoordSource.MANUAL and lat is not None:
            changed |= _set(school, {"latitude": lat, "longitude": lon, "coord_source": source})
        rep.updated += changed
        rep.unchanged += not changed
    if new:
        db.session.execute(School.__table__.insert(), new)
    db.session.flush()


def _coordinates(row, cols, postcode: str, centroids) -> tuple[float | None, float | None, CoordSource | None]:
    if "latitude" in cols and "longitude" in cols and row.get(cols["latitude"]) and row.get(cols["longitude"]):
        try:
            lat = float(row[cols["latitude"]].replace(",", "."))
            lon = float(row[cols["longitude"]].replace(",", "."))
        except ValueError:
            raise ValueError(_("onleesbare coördinaten")) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(_("coördinaten buiten bereik"))
        return lat, lon, CoordSource.FILE
    centroid = centroids.get(postcode[:4])
    if centroid:
        return centroid[0], centroid[1], CoordSource.PC4
    return None, None, None


def _import_totals(rep: FileReport, header, rows, from_year: int, progress, total: int = 0) -> None:
    cols = column_map(header)
    years = sorted(int(m.group(1)) for h in header if (m := YEAR_COL.match(h)))
    wanted = [y for y in years if y >= from_year]
    rep.years = wanted
    latest = years[-1] if years else None
    schools = _schools_by_code()
    existing = {
        (c.school_id, c.school_year): c
        for c in db.session.scalars(select(SchoolYearCount).where(SchoolYearCount.school_year >= from_year))
    }
    source = Path(rep.path).name[:100]
    new_counts = []
    special_created = 0
    for i, (line, row) in enumerate(rows, start=1):
        rep.rows = i
        if progress and i % 250 == 0:
            progress(i, max(i, total))
        if "__error__" in row:
            rep.bad(line, row["__error__"])
            continue
        try:
            code = location_code(row.get(cols["brin"], ""), row.get(cols["location"], ""))
            kind_raw = row.get(cols.get("kind", ""), "BO").upper() or "BO"
            kind = KIND_MAP.get(kind_raw)
            if kind is None:
                raise ValueError(_("onbekende SOORT_VESTIGING %(kind)s", kind=repr(kind_raw[:20])))
            counts = {y: parse_count(row.get(f"LEERLINGEN {y}", ""))[0] for y in wanted}
        except ValueError as exc:
            rep.bad(line, str(exc))
            continue
        school = schools.get(code)
        if school is None:
            # Special-education locations are not in the locations file: kept, marked by
            # kind, when they still have pupils. Closed schools and secondary special
            # education (VSO) are skipped.
            active = latest is not None and parse_count(row.get(f"LEERLINGEN {latest}", ""))[0] > 0
            if kind in (SchoolKind.SBO, SchoolKind.SO) and active:
                school = School(
                    location_code=code,
                    brin=code[:4],
                    name=row.get(cols.get("name", ""), code)[:200],
                    kind=kind,
                    municipality_code=row.get(cols.get("municipality_code", ""), "").zfill(4)[:4],
                    municipality_name=place_name(row.get(cols.get("municipality_name", ""), ""))[:100],
                    denomination=row.get(cols.get("denomination", ""), "")[:100],
                )
                db.session.add(school)
                db.session.flush()
                schools[code] = school
                special_created += 1
                rep.created += 1
            else:
                rep.skipped += 1
                continue
        elif school.kind != kind:
            school.kind = kind
        if school.id is None:
            db.session.flush()
        changed = False
        for year, pupils in counts.items():
            current = existing.get((school.id, year))
            if current is None:
                if pupils == 0 and not any(counts[y] for y in counts if y >= year):
                    continue  # not (yet) open or closed: no row rather than zeros
                new_counts.append({"school_id": school.id, "school_year": year, "pupils": pupils, "source": source})
                changed = True
            elif current.pupils != pupils:
                current.pupils = pupils
                current.source = source
                changed = True
        if school not in db.session.new:
            rep.updated += changed
            rep.unchanged += not changed
    if new_counts:
        db.session.execute(SchoolYearCount.__table__.insert(), new_counts)
    if rep.skipped:
        rep.notes.append(
            _("%(n)s regels van gesloten scholen of voortgezet speciaal onderwijs (VSO) overgeslagen", n=rep.skipped)
        )
    if special_created:
        rep.notes.append(
            _("%(n)s vestigingen voor speciaal onderwijs toegevoegd (gemarkeerd als SBO/SO)", n=special_created)
        )
    db.session.flush()


def _import_ages(rep: FileReport, header, rows, progress, total: int = 0) -> None:
    cols = column_map(header)
    age_cols = {}
    for h in header:
        m = AGE_COL.match(h)
        if m:
            age_cols[h] = int(m.group(1))
    schools = _schools_by_code()
    source = Path(rep.path).name[:100]
    year_from_name = re.search(r"(20\d{2})-(20\d{2})", Path(rep.path).name)
    per_school: dict[tuple[int, int], dict[int, tuple[int, bool]]] = {}
    for i, (line, row) in enumerate(rows, start=1):
        rep.rows = i
        if progress and i % 250 == 0:
            progress(i, max(i, total))
        if "__error__" in row:
            rep.bad(line, row["__error__"])
            continue
        try:
            code = location_code(row.get(cols["brin"], ""), row.get(cols["location"], ""))
            if "peildatum" in cols and row.get(cols["peildatum"]):
                year = school_year_of(parse_peildatum(row[cols["peildatum"]]))
            elif year_from_name:
                year = int(year_from_name.group(1))
            else:
                raise ValueError(_("geen PEILDATUM en geen schooljaar in de bestandsnaam"))
            groepen: dict[int, tuple[int, bool]] = {}
            for col, age in age_cols.items():
                n, est = parse_count(row.get(col, ""))
                g = groep_for_age(age)
                prev_n, prev_est = groepen.get(g, (0, False))
                groepen[g] = (prev_n + n, prev_est or est)
        except ValueError as exc:
            rep.bad(line, str(exc))
            continue
        school = schools.get(code)
        if school is None:
            rep.bad(line, _("onbekende vestiging %(code)s: lees eerst het vestigingenbestand in", code=code))
            continue
        # a location may appear on several rows (one per onderwijssoort/cluster): add up
        key = (school.id, year)
        acc = per_school.setdefault(key, {})
        for g, (n, est) in groepen.items():
            prev_n, prev_est = acc.get(g, (0, False))
            acc[g] = (prev_n + n, prev_est or est)
    years = sorted({y for _, y in per_school})
    rep.years = years
    existing = (
        {
            (e.school_id, e.school_year, e.groep): e
            for e in db.session.scalars(select(GroepEnrolment).where(GroepEnrolment.school_year.in_(years)))
        }
        if years
        else {}
    )
    totals = (
        {
            (c.school_id, c.school_year): c
            for c in db.session.scalars(select(SchoolYearCount).where(SchoolYearCount.school_year.in_(years)))
        }
        if years
        else {}
    )
    inserts = []
    for (school_id, year), groepen in per_school.items():
        changed = False
        for g in range(1, 9):
            n, est = groepen.get(g, (0, False))
            cur = existing.get((school_id, year, g))
            if cur is None:
                inserts.append({"school_id": school_id, "school_year": year, "groep": g, "pupils": n, "estimated": est})
                changed = True
            elif (cur.pupils, cur.estimated) != (n, est):
                cur.pupils, cur.estimated = n, est
                changed = True
        total = sum(n for n, _ in groepen.values())
        if (school_id, year) not in totals:
            db.session.add(SchoolYearCount(school_id=school_id, school_year=year, pupils=total, source=source))
            changed = True
        rep.updated += changed
        rep.unchanged += not changed
    if inserts:
        db.session.execute(GroepEnrolment.__table__.insert(), inserts)
    db.session.flush()
