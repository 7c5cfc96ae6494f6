"""The administrator's rules: regions, accounts (invite, change, deactivate), school data.

Every function takes the acting user, checks what that user may do (app/auth/permissions)
and the rules of the data, raises DomainError (with the form field where it fits),
flushes but does not commit. Changes go to the ``app.audit`` logger with the actor's id.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from app.auth import permissions
from app.auth.models import ApiToken, HolidayRegion, Region, Role, User
from app.auth.services import create_user, send_invitation, void_reset_tokens
from app.db import utcnow
from app.errors import DomainError, PermissionDeniedError
from app.extensions import db
from app.labs.models import Venue
from app.scoping import region_scope
from app.schools.models import HolidayPeriod, RegionChange, School, SchoolRegion

audit = logging.getLogger("app.audit")

BUS_THRESHOLD_RANGE = (0.0, 100.0)  # km; more than 0 (the database holds that too), at most 100
ROAD_FACTOR_RANGE = (1.0, 3.0)
REGION_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def _deny(message: str | None = None) -> PermissionDeniedError:
    return PermissionDeniedError(message or _("U mag dit niet doen."))


# ------------------------------------------------------------------ regions


@dataclass(frozen=True)
class RegionSettings:
    holiday_region: HolidayRegion
    bus_threshold_km: float
    road_factor: float
    collect_gender_counts: bool
    classes_per_school_session: int = 1  # admission: classes of one school in one session
    offer_hours: int = 48  # admission: time to accept a place offered inside the cancellation deadline
    password_login_off: bool | None = None  # sign-in: teachers only through a school account (administrators set it)
    bus_share_detour_minutes: int = 10  # buses: a shared bus may drop classes at venues this close (0: same venue)


def _check_settings(settings: RegionSettings) -> None:
    lo, hi = BUS_THRESHOLD_RANGE
    if not (lo < settings.bus_threshold_km <= hi):
        raise DomainError(
            _("De busgrens ligt tussen 0 en 100 km (meer dan 0)."), code="invalid_threshold", field="bus_threshold_km"
        )
    lo, hi = ROAD_FACTOR_RANGE
    if not (lo <= settings.road_factor <= hi):
        raise DomainError(_("De omrijfactor ligt tussen 1,0 en 3,0."), code="invalid_road_factor", field="road_factor")
    if not 1 <= int(settings.classes_per_school_session) <= 20:
        raise DomainError(
            _("Van 1 tot en met 20."), code="invalid_classes_per_school_session", field="classes_per_school_session"
        )
    if not 1 <= int(settings.offer_hours) <= 336:
        raise DomainError(_("Van 1 tot en met 336 uur."), code="invalid_offer_hours", field="offer_hours")
    if not 0 <= int(settings.bus_share_detour_minutes) <= 60:
        raise DomainError(
            _("Van 0 tot en met 60 minuten."), code="invalid_share_detour", field="bus_share_detour_minutes"
        )


def _check_code_and_name(code: str, name: str, region: Region | None) -> tuple[str, str]:
    code, name = (code or "").strip().lower(), (name or "").strip()
    if not REGION_CODE.match(code):
        raise DomainError(
            _("Een code heeft 2 tot 40 tekens: kleine letters, cijfers en streepjes."),
            code="invalid_code",
            field="code",
        )
    other = db.session.scalar(select(Region.id).where(Region.code == code))
    if other is not None and (region is None or other != region.id):
        raise DomainError(_("Er bestaat al een regio met deze code."), code="code_taken", field="code")
    if not name or len(name) > 200:
        raise DomainError(_("Vul een naam in (hoogstens 200 tekens)."), code="invalid_name", field="name")
    return code, name


def _apply_settings(region: Region, settings: RegionSettings) -> None:
    region.holiday_region = settings.holiday_region
    region.bus_threshold_km = float(settings.bus_threshold_km)
    region.road_factor = float(settings.road_factor)
    region.collect_gender_counts = bool(settings.collect_gender_counts)
    region.classes_per_school_session = int(settings.classes_per_school_session)
    region.offer_hours = int(settings.offer_hours)
    region.bus_share_detour_minutes = int(settings.bus_share_detour_minutes)
    if settings.password_login_off is not None:
        region.password_login_off = bool(settings.password_login_off)


def create_region(actor: User, code: str, name: str, settings: RegionSettings) -> Region:
    if not permissions.can_manage_regions(actor):
        raise _deny()
    code, name = _check_code_and_name(code, name, None)
    _check_settings(settings)
    region = Region(code=code, name=name)
    _apply_settings(region, settings)
    db.session.add(region)
    db.session.flush()
    audit.info("region %s (%s) created by account %s", region.id, region.code, actor.id)
    return region


def update_region(
    actor: User, region: Region, settings: RegionSettings, *, code: str | None = None, name: str | None = None
) -> Region:
    """Change a region's settings; its code and name only an administrator changes."""
    if not permissions.can_edit_region(actor, region):
        raise _deny()
    if code is not None or name is not None:
        if not permissions.can_manage_regions(actor):
            raise _deny(_("Alleen een beheerder wijzigt de code en naam van een regio."))
        region.code, region.name = _check_code_and_name(
            code if code is not None else region.code, name if name is not None else region.name, region
        )
    _check_settings(settings)
    _apply_settings(region, settings)
    db.session.flush()
    audit.info(
        "region %s (%s) changed by account %s: holiday region %s, bus threshold %s km, road factor %s, "
        "gender counts %s, password sign-in off %s",
        region.id,
        region.code,
        actor.id,
        region.holiday_region.value,
        region.bus_threshold_km,
        region.road_factor,
        region.collect_gender_counts,
        region.password_login_off,
    )
    return region


def region_overview() -> list[tuple[Region, int, int]]:
    """Every region with its number of schools and of active accounts."""
    schools = dict(db.session.execute(select(School.region_id, func.count(School.id)).group_by(School.region_id)).all())
    users = dict(
        db.session.execute(
            select(User.region_id, func.count(User.id)).where(User.active.is_(True)).group_by(User.region_id)
        ).all()
    )
    regions = db.session.scalars(select(Region).order_by(Region.name)).all()
    return [(r, schools.get(r.id, 0), users.get(r.id, 0)) for r in regions]


def regions_for(actor: User) -> list[Region]:
    """The regions the actor may give accounts: all for an administrator, else their own."""
    if permissions.is_admin(actor):
        return list(db.session.scalars(select(Region).order_by(Region.name)))
    return [actor.region] if actor.region is not None else []


def region_schools(region: Region | None) -> list[School]:
    if region is None:
        return []
    return list(
        db.session.scalars(
            select(School)
            .where(School.region_id == region.id, School.active.is_(True))
            .order_by(School.name, School.city)
        )
    )


def region_venues(region: Region | None) -> list[Venue]:
    if region is None:
        return []
    return list(db.session.scalars(select(Venue).where(Venue.region_id == region.id).order_by(Venue.name)))


# ------------------------------------------------------------------ accounts


@dataclass(frozen=True)
class UserFilters:
    role: Role | None = None
    region_id: int | None = None
    school_id: int | None = None
    active: bool | None = None
    email: str = ""


def users_stmt(actor: User, filters: UserFilters):
    """The accounts the actor may see, filtered, in a stable order (a statement to paginate)."""
    if not permissions.can_manage_users(actor):
        raise _deny()
    stmt = (
        select(User)
        .order_by(User.email, User.id)
        .options(selectinload(User.region), selectinload(User.school), selectinload(User.venues))
    )
    if not permissions.is_admin(actor):
        stmt = stmt.where(*region_scope(actor, User.region_id), User.role != Role.ADMIN)
    if filters.role is not None:
        stmt = stmt.where(User.role == filters.role)
    if filters.region_id is not None:
        stmt = stmt.where(User.region_id == filters.region_id)
    if filters.school_id is not None:
        stmt = stmt.where(User.school_id == filters.school_id)
    if filters.active is not None:
        stmt = stmt.where(User.active.is_(filters.active))
    if filters.email:
        escaped = filters.email.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(User.email.like(f"%{escaped}%", escape="\\"))
    return stmt


@dataclass
class Assignment:
    """What an account is: role, region, school (teachers), venues (coordinators), name."""

    role: Role
    region: Region | None
    school: School | None = None
    venues: list[Venue] = field(default_factory=list)
    name: str = ""


def load_assignment(
    role: str, region_id: int | None, school_id: int | None, venue_ids: Iterable[int], name: str = ""
) -> Assignment:
    """An Assignment from the ids a form gives (0 or None: none)."""

    def get(model, ident, field_name):
        if not ident:
            return None
        obj = db.session.get(model, ident)
        if obj is None:
            raise DomainError(_("Maak een keuze uit de lijst."), code="not_found", field=field_name)
        return obj

    try:
        role_value = Role(role)
    except ValueError:
        raise DomainError(_("Maak een keuze uit de lijst."), code="invalid_role", field="role") from None
    return Assignment(
        role=role_value,
        region=get(Region, region_id, "region"),
        school=get(School, school_id, "school"),
        venues=[get(Venue, v, "venues") for v in venue_ids if v],
        name=name,
    )


def _check_assignment(actor: User, a: Assignment) -> Assignment:
    """May the actor give this role in this region, and does it fit together? Returns it
    normalised (a school only for a teacher, venues only for a coordinator)."""
    if a.role != Role.ADMIN and a.region is None:
        if a.school is not None and a.role in (Role.TEACHER, Role.SCHOOL_COORDINATOR):
            a.region = a.school.region
        if a.region is None:
            raise DomainError(_("Kies een regio."), code="region_required", field="region")
    if not permissions.can_grant_role(actor, a.role, a.region):
        if a.role == Role.ADMIN:
            raise _deny(_("Alleen een beheerder maakt beheerders."))
        raise _deny(_("U beheert alleen de accounts van uw eigen regio."))
    if a.role in (Role.TEACHER, Role.SCHOOL_COORDINATOR):
        if a.school is None:
            raise DomainError(_("Een leerkracht hoort bij een school."), code="school_required", field="school")
        if a.region is not None and a.school.region_id != a.region.id:
            raise DomainError(_("De school hoort niet bij deze regio."), code="school_region", field="school")
    else:
        a.school = None
    if a.role == Role.COORDINATOR:
        if a.region is not None and any(v.region_id != a.region.id for v in a.venues):
            raise DomainError(_("Een locatie hoort niet bij deze regio."), code="venue_region", field="venues")
    else:
        a.venues = []
    a.name = (a.name or "").strip()
    if len(a.name) > 200:
        raise DomainError(_("Een naam heeft hoogstens 200 tekens."), code="invalid_name", field="name")
    return a


def _lock_active_admins() -> list[User]:
    """The active administrators, locked (PostgreSQL: FOR UPDATE in id order; SQLite holds the
    write lock already), so two administrators cannot remove each other at the same time."""
    from app.booking.locking import for_update

    stmt = (
        select(User)
        .where(User.role == Role.ADMIN, User.active.is_(True))
        .order_by(User.id)
        .execution_options(populate_existing=True)
    )
    admins = list(db.session.scalars(for_update(stmt, User)))
    barrier = current_app.config.get("ADMIN_TEST_BARRIER")  # the control test only: all read, then all write
    if barrier is not None:
        barrier.wait(timeout=10)
    return admins


def _keep_an_admin(target: User) -> None:
    """Refuse when ``target`` is the last active administrator."""
    admins = _lock_active_admins()
    if target.role == Role.ADMIN and target.active and not any(u.id != target.id for u in admins):
        raise DomainError(
            _("Dit is de laatste actieve beheerder: maak eerst iemand anders beheerder."),
            code="last_admin",
            field="role",
        )


def invite_user(actor: User, email: str, assignment: Assignment, locale: str = "nl") -> User:
    """Create an account without a password and mail it an invitation to choose one."""
    if not permissions.can_manage_users(actor):
        raise _deny()
    a = _check_assignment(actor, assignment)
    user = create_user(
        email=email,
        role=a.role,
        password=None,
        region=a.region,
        school=a.school,
        venues=a.venues,
        name=a.name,
        locale=locale if locale in ("nl", "en") else "nl",
    )
    send_invitation(user, invited_by=actor)
    audit.info(
        "account %s invited as %s (region %s) by account %s", user.id, user.role.value, user.region_id or "-", actor.id
    )
    return user


def update_user(actor: User, target: User, assignment: Assignment) -> User:
    if not permissions.can_manage_user(actor, target):
        raise _deny()
    a = _check_assignment(actor, assignment)
    if target.role == Role.ADMIN and a.role != Role.ADMIN:
        _keep_an_admin(target)
    if target.id == actor.id and a.role != target.role:
        raise DomainError(_("U kunt uw eigen rol niet wijzigen."), code="own_role", field="role")
    before = (target.role.value, target.region_id, target.school_id)
    target.role, target.region, target.school, target.name = a.role, a.region, a.school, a.name
    target.venues = list(a.venues)
    db.session.flush()
    audit.info(
        "account %s changed by account %s: role/region/school %s -> %s",
        target.id,
        actor.id,
        before,
        (target.role.value, target.region_id, target.school_id),
    )
    return target


def set_user_active(actor: User, target: User, active: bool) -> User:
    """Deactivate (cannot sign in; sessions end; API keys and open links are revoked) or
    reactivate an account."""
    if not permissions.can_manage_user(actor, target):
        raise _deny()
    if target.active == active:
        return target
    now = utcnow()
    if not active:
        _keep_an_admin(target)
        if target.id == actor.id:
            raise DomainError(_("U kunt uw eigen account niet deactiveren."), code="own_account")
        target.active = False
        target.session_version = (target.session_version or 0) + 1
        db.session.execute(
            update(ApiToken).where(ApiToken.user_id == target.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
        )
        void_reset_tokens(target, now)
    else:
        target.active = True
        target.failed_logins = 0
        target.locked_until = None
    db.session.flush()
    audit.info("account %s %s by account %s", target.id, "reactivated" if active else "deactivated", actor.id)
    return target


def resend_invitation(actor: User, target: User) -> User:
    if not permissions.can_manage_user(actor, target):
        raise _deny()
    if not target.active:
        raise DomainError(_("Dit account is gedeactiveerd; activeer het eerst."), code="inactive")
    if target.password_hash:
        raise DomainError(
            _(
                'Dit account heeft al een wachtwoord. Via "Wachtwoord vergeten?" kan de gebruiker '
                "zelf een nieuwe link aanvragen."
            ),
            code="has_password",
        )
    send_invitation(target, invited_by=actor)
    return target


# ------------------------------------------------------------------ school data


class UploadError(DomainError):
    code = "bad_upload"


def _check_csv_name(filename: str | None, field_name: str) -> str:
    name = Path((filename or "").replace("\\", "/")).name
    if not name.lower().endswith(".csv"):
        raise UploadError(_("Alleen CSV-bestanden (.csv) kunnen worden ingelezen."), field=field_name)
    return name


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes | BinaryIO  # bytes, or the uploaded file's stream (copied in chunks, never read whole)


def import_duo_uploads(actor: User, uploads: Iterable[Upload], from_year: int):
    """Import uploaded DUO files with the importer the CLI uses (app/schools/duo.py).

    Every file is checked to be a CSV first (a wrong file changes nothing); the importer
    then imports each file in its own transaction, reporting bad rows by line; a file it
    cannot read is reported and changes nothing.
    """
    from app.schools.duo import import_files

    if not permissions.can_manage_school_data(actor):
        raise _deny()
    uploads = list(uploads)
    if not uploads:
        raise UploadError(_("Kies een of meer bestanden."), field="files")
    names = [_check_csv_name(u.filename, "files") for u in uploads]
    with tempfile.TemporaryDirectory(prefix="duo-upload-") as tmp:
        paths = []
        for i, (name, upload) in enumerate(zip(names, uploads, strict=False)):
            path = Path(tmp) / f"{i:02d}-{re.sub(r'[^A-Za-z0-9._-]', '_', name)[:100]}"
            if isinstance(upload.content, (bytes, bytearray)):
                path.write_bytes(upload.content)
            else:
                with open(path, "wb") as out:
                    shutil.copyfileobj(upload.content, out, 1 << 20)
            paths.append(path)
        report = import_files(paths, from_year=from_year)
    for f, name in zip(report.files, names, strict=False):  # show the names as uploaded, not the temporary paths
        f.path = name
    audit.info(
        "DUO files imported by account %s: %s",
        actor.id,
        "; ".join(
            f"{f.path} ({f.kind or '?'}): created {f.created}, updated {f.updated}, bad "
            f"{f.bad_total}{', NOT IMPORTED' if f.error else ''}"
            for f in report.files
        ),
    )
    return report


@dataclass(frozen=True)
class HolidayReport:
    filename: str
    created: int
    updated: int
    bad_rows: list[tuple[int, str]]


def import_holiday_upload(actor: User, upload: Upload) -> HolidayReport:
    """Load school holidays from an uploaded CSV (holiday_region,school_year,name,starts_on,ends_on)."""
    from app.schools.duo import decode
    from app.schools.holidays import HolidayFileError, import_holidays

    if not permissions.can_manage_school_data(actor):
        raise _deny()
    name = _check_csv_name(upload.filename, "file")
    text = decode(upload.content)  # UTF-16 with a BOM too (its NUL bytes are part of the encoding)
    if "\x00" in text:
        raise UploadError(_("Dit bestand is geen tekstbestand (CSV)."), field="file")
    try:
        created, updated, bad = import_holidays(text=text)
    except HolidayFileError as exc:
        raise UploadError(
            _(
                "Dit bestand is geen vakantiebestand: %(reason)s. De eerste regel moet zijn: "
                "holiday_region,school_year,name,starts_on,ends_on",
                reason=str(exc),
            ),
            field="file",
        ) from None
    audit.info(
        "holidays imported by account %s from %s: created %s, updated %s, bad %s",
        actor.id,
        name,
        created,
        updated,
        len(bad),
    )
    return HolidayReport(name, created, updated, bad)


AREA_COLUMNS = {"municipality": School.municipality_code, "nodal": School.nodal_code, "corop": School.corop_code}


def parse_codes(raw: str) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", (raw or "").strip()) if c]


def _area_schools(area: str, codes: Iterable[str]) -> tuple[list[str], list[School]]:
    """The codes (normalised) and every school of the given municipalities, nodal or COROP areas."""
    column = AREA_COLUMNS.get(area)
    if column is None:
        raise DomainError(_("Kies gemeenten, nodale gebieden of COROP-gebieden."), field="area")
    codes = [c.strip().upper() for c in codes if c.strip()]
    if area == "municipality":
        codes = [c.zfill(4) if c.isdigit() else c for c in codes]
    if not codes or any(len(c) > 4 for c in codes):
        raise DomainError(
            _("Vul een of meer codes in (hoogstens 4 tekens elk), gescheiden door komma's."), field="codes"
        )
    codes = list(dict.fromkeys(codes))
    found = set(db.session.scalars(select(column).where(column.in_(codes)).distinct()))
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise DomainError(_("Geen scholen met deze code(s): %(codes)s.", codes=", ".join(unknown)), field="codes")
    schools = list(
        db.session.scalars(
            select(School)
            .where(column.in_(codes))
            .order_by(School.name, School.id)
            .options(selectinload(School.region))
        )
    )
    return codes, schools


def reassign_targets(actor: User) -> list[Region]:
    """The regions schools may be reassigned to from the page: every region (a programme leader
    gives their own region's schools to another region, or takes schools without a region)."""
    if not permissions.can_reassign_areas(actor):
        return []
    return list(db.session.scalars(select(Region).order_by(Region.name)))


def _check_reassign(actor: User, moves: set[tuple[int | None, int | None]], to_region_id: int | None) -> None:
    """The gate (``permissions.can_reassign_area``) for every (from, to) pair a change makes;
    a change that moves nothing is checked as taking schools without a region."""
    if not permissions.can_reassign_areas(actor):
        raise _deny()
    refused = sorted(
        {f for f, t in (moves or {(None, to_region_id)}) if not permissions.can_reassign_area(actor, f, t)},
        key=lambda rid: (rid is not None, rid or 0),
    )
    if not refused:
        return
    names = {r.id: r.name for r in db.session.scalars(select(Region).where(Region.id.in_([r for r in refused if r])))}
    raise PermissionDeniedError(
        _(
            "Dit mag alleen een beheerder: u kunt scholen van uw eigen regio aan een andere regio geven, "
            "of scholen zonder regio in uw eigen regio opnemen (het gaat hier om scholen van: %(regions)s).",
            regions=", ".join(names.get(r, "—") if r else _("geen regio") for r in refused),
        ),
        code="forbidden",
        field="codes",
    )


@dataclass
class RegionChangePreview:
    """What a reassignment would change, shown before it is confirmed."""

    region: Region
    area: str
    codes: list[str]
    from_year: int
    moving: list[School]  # schools that change region
    staying: int  # schools of the areas already in the region
    teachers: list[User]
    upcoming: list  # bookings of the moving schools still to come (they stay as they are)
    from_regions: dict[str, int]  # region name (or "—") -> schools leaving it


def preview_region_change(actor: User, region: Region, area: str, codes: Iterable[str]) -> RegionChangePreview:
    """The schools, teachers and upcoming bookings a reassignment touches; changes nothing."""
    from app.booking.models import Booking, BookingStatus
    from app.labs.models import Session
    from app.timeutil import school_year_of

    if not permissions.can_reassign_areas(actor):
        raise _deny()
    codes, schools = _area_schools(area, codes)
    moving = [s for s in schools if s.region_id != region.id]
    _check_reassign(actor, {(s.region_id, region.id) for s in moving}, region.id)
    ids = [s.id for s in moving]
    teachers = (
        list(
            db.session.scalars(
                select(User).where(User.role == Role.TEACHER, User.school_id.in_(ids)).order_by(User.email)
            )
        )
        if ids
        else []
    )
    upcoming = (
        list(
            db.session.scalars(
                select(Booking)
                .join(Session, Booking.session_id == Session.id)
                .where(
                    Booking.school_id.in_(ids),
                    Session.starts_at >= utcnow(),
                    Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.WAITLISTED, BookingStatus.OFFERED]),
                )
                .order_by(Session.starts_at)
            )
        )
        if ids
        else []
    )
    from_regions: dict[str, int] = {}
    for s in moving:
        key = s.region.name if s.region is not None else "—"
        from_regions[key] = from_regions.get(key, 0) + 1
    return RegionChangePreview(
        region,
        area,
        codes,
        school_year_of(utcnow()),
        moving,
        len(schools) - len(moving),
        teachers,
        upcoming,
        from_regions,
    )


def _memberships(school_ids: list[int]) -> dict[int, list[SchoolRegion]]:
    out: dict[int, list[SchoolRegion]] = {sid: [] for sid in school_ids}
    if school_ids:
        for m in db.session.scalars(
            select(SchoolRegion)
            .where(SchoolRegion.school_id.in_(school_ids))
            .order_by(SchoolRegion.school_id, SchoolRegion.valid_from)
        ):
            out[m.school_id].append(m)
    return out


def assign_schools_to_region(actor: User, region: Region, area: str, codes: Iterable[str]) -> RegionChange:
    """Assign every school of the given municipalities, nodal or COROP areas to the region,
    from the running school year on: earlier school years keep the region the school was in
    (a dated membership), so their reach does not change. The schools' teachers move with
    their school. What was there before is kept on the RegionChange, for an exact undo."""
    from app.timeutil import school_year_of

    if not permissions.can_reassign_areas(actor):
        raise _deny()
    codes, schools = _area_schools(area, codes)
    year = school_year_of(utcnow())
    moving = [s for s in schools if s.region_id != region.id]
    _check_reassign(actor, {(s.region_id, region.id) for s in moving}, region.id)
    rows = _memberships([s.id for s in moving])
    teachers = (
        list(
            db.session.scalars(
                select(User).where(User.role == Role.TEACHER, User.school_id.in_([s.id for s in moving]))
            )
        )
        if moving
        else []
    )
    before = {
        "schools": {
            str(s.id): {"region_id": s.region_id, "rows": [[m.valid_from, m.valid_to, m.region_id] for m in rows[s.id]]}
            for s in moving
        },
        "teachers": {str(u.id): u.region_id for u in teachers},
    }
    for s in moving:
        history = rows[s.id]
        if not history:  # the first change: until now the school was in its region all along
            db.session.add(SchoolRegion(school_id=s.id, region_id=s.region_id, valid_from=None, valid_to=year))
        for m in history:
            if m.valid_from is not None and m.valid_from >= year:
                db.session.delete(m)  # replaced from this year on
            elif m.valid_to is None or m.valid_to > year:
                m.valid_to = year
        db.session.add(SchoolRegion(school_id=s.id, region_id=region.id, valid_from=year, valid_to=None))
        s.region_id = region.id
    for u in teachers:
        u.region_id = region.id
    change = RegionChange(
        region_id=region.id,
        area=area,
        codes=",".join(codes),
        from_year=year,
        schools=len(moving),
        teachers=len(teachers),
        before=before,
        created_by_id=actor.id,
    )
    db.session.add(change)
    db.session.flush()
    audit.info(
        "%s schools of %s %s assigned to region %s from school year %s by account %s (change %s; %s teachers moved)",
        len(moving),
        area,
        ",".join(codes),
        region.code,
        year,
        actor.id,
        change.id,
        len(teachers),
    )
    return change


def _touches(change: RegionChange, region_id: int | None) -> bool:
    return region_id is not None and any(region_id in pair for pair in permissions.region_change_moves(change))


def recent_region_changes(actor: User, limit: int = 10) -> list[RegionChange]:
    """The latest changes: all for an administrator, those that touched their own region for a
    programme leader."""
    if permissions.is_admin(actor):
        stmt = select(RegionChange).order_by(RegionChange.id.desc()).limit(limit)
        return list(db.session.scalars(stmt.options(selectinload(RegionChange.region))))
    if not permissions.can_reassign_areas(actor):
        return []
    stmt = select(RegionChange).order_by(RegionChange.id.desc()).limit(500)
    rows = db.session.scalars(stmt.options(selectinload(RegionChange.region)))
    return [c for c in rows if _touches(c, actor.region_id)][:limit]


def undo_region_change(actor: User, change: RegionChange) -> RegionChange:
    """Put back exactly what the change replaced: memberships, the schools' regions and the
    regions of the teachers it moved (a teacher moved again since keeps their new region).
    Refused when a later change (not undone) touched one of its schools: undo that first."""
    _check_reassign(actor, permissions.region_change_moves(change), change.region_id)
    if change.undone_at is not None:
        raise DomainError(_("Deze wijziging is al ongedaan gemaakt."), code="already_undone")
    ids = {int(k) for k in change.before.get("schools", {})}
    later = db.session.scalars(
        select(RegionChange).where(RegionChange.id > change.id, RegionChange.undone_at.is_(None))
    ).all()
    if any(ids & {int(k) for k in c.before.get("schools", {})} for c in later):
        raise DomainError(
            _("Een latere wijziging raakt dezelfde scholen: maak die eerst ongedaan."), code="later_change"
        )
    rows = _memberships(sorted(ids))
    for sid, was in change.before.get("schools", {}).items():
        for m in rows[int(sid)]:
            db.session.delete(m)
        for valid_from, valid_to, region_id in was["rows"]:
            db.session.add(
                SchoolRegion(school_id=int(sid), region_id=region_id, valid_from=valid_from, valid_to=valid_to)
            )
        school = db.session.get(School, int(sid))
        if school is not None:
            school.region_id = was["region_id"]
    for uid, region_id in change.before.get("teachers", {}).items():
        user = db.session.get(User, int(uid))
        if user is not None and user.region_id == change.region_id:
            user.region_id = region_id
    change.undone_at, change.undone_by_id = utcnow(), actor.id
    db.session.flush()
    audit.info("region change %s undone by account %s", change.id, actor.id)
    return change


def municipality_overview(actor: User) -> list[dict]:
    """Per municipality: its code and name, number of schools, and the regions they are in.
    A programme leader sees the municipalities with schools of their region or without one
    (those they may give away or take in)."""
    rows = db.session.execute(
        select(
            School.municipality_code,
            School.municipality_name,
            School.nodal_code,
            School.nodal_name,
            Region.code,
            func.count(School.id),
        )
        .outerjoin(Region, School.region_id == Region.id)
        .group_by(School.municipality_code, School.municipality_name, School.nodal_code, School.nodal_name, Region.code)
        .order_by(School.municipality_name, School.municipality_code)
    ).all()
    out: dict[str, dict] = {}
    for code, name, nodal_code, nodal_name, region_code, n in rows:
        m = out.setdefault(
            code,
            {"code": code, "name": name, "nodal": f"{nodal_code} {nodal_name}".strip(), "schools": 0, "regions": {}},
        )
        m["schools"] += n
        m["regions"][region_code or "—"] = m["regions"].get(region_code or "—", 0) + n
    if permissions.is_admin(actor):
        return list(out.values())
    if not permissions.can_reassign_areas(actor):
        return []
    own = actor.region.code if actor.region is not None else None
    return [m for m in out.values() if own in m["regions"] or "—" in m["regions"]]


def holiday_years() -> list[int]:
    return list(db.session.scalars(select(HolidayPeriod.school_year).distinct().order_by(HolidayPeriod.school_year)))


def holidays_by_region(school_year: int) -> dict[HolidayRegion, list[HolidayPeriod]]:
    periods = db.session.scalars(
        select(HolidayPeriod)
        .where(HolidayPeriod.school_year == school_year)
        .order_by(HolidayPeriod.starts_on, HolidayPeriod.name)
    ).all()
    out: dict[HolidayRegion, list[HolidayPeriod]] = {r: [] for r in HolidayRegion}
    for p in periods:
        out[p.holiday_region].append(p)
    return out
