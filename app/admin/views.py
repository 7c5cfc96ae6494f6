"""The administration pages (Beheer): regions, accounts, school data and holidays.

Administrators see every region; a programme leader sets their own region's settings
and manages its accounts. Every handler: check the role (403), load the object (404 for
another region's), validate the form, call one service, commit or put the error back.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app.admin import services
from app.admin.forms import (
    HOLIDAY_REGION_LABELS,
    AssignRegionForm,
    DuoUploadForm,
    HolidayUploadForm,
    InviteForm,
    RegionForm,
    RegionSettingsForm,
    UserFilterForm,
    UserForm,
)
from app.auth import permissions
from app.auth.models import HolidayRegion, Region, Role, User
from app.db import utcnow
from app.extensions import db
from app.timeutil import school_year_label, school_year_of
from app.web import Outcome, attempt, handle_form, int_arg, load_or_404

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/regiobeheer")


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


@bp.get("/")
@login_required
def index():
    _require(permissions.can_administer(current_user))
    return render_template("admin/index.html", region=current_user.region)


# ------------------------------------------------------------------ regions


def _settings(form: RegionSettingsForm) -> services.RegionSettings:
    return services.RegionSettings(
        holiday_region=HolidayRegion(form.holiday_region.data),
        bus_threshold_km=float(form.bus_threshold_km.data),
        road_factor=float(form.road_factor.data),
        collect_gender_counts=bool(form.collect_gender_counts.data),
        classes_per_school_session=int(form.classes_per_school_session.data or 1),
        offer_hours=int(form.offer_hours.data or 48),
        bus_share_detour_minutes=int(
            form.bus_share_detour_minutes.data if form.bus_share_detour_minutes.data is not None else 10
        ),
        password_login_off=bool(form.password_login_off.data) if hasattr(form, "password_login_off") else None,
    )


@bp.get("/regios")
@login_required
def regions():
    _require(permissions.can_manage_regions(current_user))
    return render_template(
        "admin/regions.html", rows=services.region_overview(), HOLIDAY_REGION_LABELS=HOLIDAY_REGION_LABELS
    )


@bp.route("/regios/nieuw", methods=["GET", "POST"])
@login_required
def region_new():
    _require(permissions.can_manage_regions(current_user))
    form = RegionForm()
    if request.method == "GET":
        form.bus_threshold_km.data, form.road_factor.data, form.holiday_region.data = 6, 1.3, "midden"
    done = handle_form(
        form,
        lambda: services.create_region(current_user, form.code.data, form.name.data, _settings(form)),
        lambda region: _("De regio %(name)s is aangemaakt.", name=region.name),
    )
    if done:
        return redirect(url_for("admin.region_edit", region_id=done.result.id))
    return render_template("admin/region.html", form=form, region=None), done.status


@bp.route("/regios/<int:region_id>", methods=["GET", "POST"])
@login_required
def region_edit(region_id: int):
    _require(permissions.can_administer(current_user))
    region = load_or_404(Region, region_id, permissions.can_edit_region)
    full = permissions.can_manage_regions(current_user)
    form_cls = RegionForm if full else RegionSettingsForm
    form = form_cls(obj=region) if request.method == "GET" else form_cls()
    if request.method == "GET":
        form.holiday_region.data = region.holiday_region.value
    names = lambda: dict(code=form.code.data, name=form.name.data) if full else {}
    done = handle_form(
        form,
        lambda: services.update_region(current_user, region, _settings(form), **names()),
        _("De instellingen van de regio zijn opgeslagen."),
    )
    if done:
        return redirect(url_for("admin.region_edit", region_id=region.id))
    return render_template("admin/region.html", form=form, region=region), done.status


# ------------------------------------------------------------------ accounts


def _region_choices() -> list[tuple[int, str]]:
    regions = services.regions_for(current_user)
    choices = [(r.id, f"{r.name} ({r.code})") for r in regions]
    if permissions.is_admin(current_user):
        choices = [(0, _("— geen regio (alleen voor beheerders)"))] + choices
    return choices


def _prepare_user_form(form: UserForm, default_region_id: int | None) -> Region | None:
    """Set the region, school and venue choices; the schools and venues are the chosen region's."""
    form.region.choices = _region_choices()
    allowed = {value for value, _label in form.region.choices}
    region_id = form.region.data if request.method == "POST" else default_region_id
    if region_id not in allowed:
        region_id = form.region.choices[0][0] if form.region.choices else 0
    if request.method != "POST":
        form.region.data = region_id
    # a posted region that is not among the choices stays, so the form refuses it
    region = db.session.get(Region, region_id) if region_id else None
    form.school.choices = [(0, "—")] + [
        (s.id, f"{s.name}, {s.city} ({s.location_code})") for s in services.region_schools(region)
    ]
    form.venues.choices = [(v.id, v.name) for v in services.region_venues(region)]
    if not permissions.is_admin(current_user):
        form.role.choices = [c for c in form.role.choices if c[0] != Role.ADMIN.value]
    return region


def _assignment(form: UserForm) -> services.Assignment:
    return services.load_assignment(
        form.role.data, form.region.data, form.school.data, form.venues.data or [], form.name.data or ""
    )


def _picking_region() -> bool:
    """The "Regio kiezen" button: show the region's schools and venues, save nothing."""
    return request.method == "POST" and "pick_region" in request.form


@bp.get("/gebruikers")
@login_required
def users():
    _require(permissions.can_manage_users(current_user))
    form = UserFilterForm(request.args)
    admin = permissions.is_admin(current_user)
    region = _prepare_filter_form(form, admin)
    page = db.paginate(
        services.users_stmt(current_user, _user_filters(form, region if admin else None)),
        page=int_arg("page", 1, lo=1, hi=100_000),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/users.html", form=form, page=page, args=args, show_region=admin)


def _prepare_filter_form(form: UserFilterForm, admin: bool) -> Region | None:
    """Set the filter's region, school and role choices; returns the region filtered on (an
    administrator's choice, or a programme leader's own)."""
    form.region.choices = [("", _("Alle regio's"))] + [(str(r.id), r.name) for r in services.regions_for(current_user)]
    region_id = int_arg("region") if admin else current_user.region_id
    region = db.session.get(Region, region_id) if region_id else None
    form.school.choices = [("", _("Alle scholen"))] + [(str(s.id), s.name) for s in services.region_schools(region)]
    if not admin:
        form.role.choices = [c for c in form.role.choices if c[0] != Role.ADMIN.value]
    return region


def _user_filters(form: UserFilterForm, region: Region | None) -> services.UserFilters:
    if not form.validate():
        return services.UserFilters()
    return services.UserFilters(
        role=Role(form.role.data) if form.role.data else None,
        region_id=region.id if region is not None else None,
        school_id=int(form.school.data) if form.school.data else None,
        active={"1": True, "0": False}.get(form.active.data or ""),
        email=(form.email.data or "").strip()[:254],
    )


@bp.route("/gebruikers/nieuw", methods=["GET", "POST"])
@login_required
def user_invite():
    _require(permissions.can_manage_users(current_user))
    form = InviteForm()
    default_region = int_arg("region") if permissions.is_admin(current_user) else current_user.region_id
    _prepare_user_form(form, default_region)
    if request.method == "GET":
        form.role.data = Role.TEACHER.value
    done = (
        Outcome(False)
        if _picking_region()
        else handle_form(
            form,
            lambda: services.invite_user(current_user, form.email.data, _assignment(form), locale=form.locale.data),
            lambda user: _(
                "%(email)s is uitgenodigd en krijgt een e-mail om een wachtwoord te kiezen.", email=user.email
            ),
        )
    )
    if done:
        return redirect(url_for("admin.user_edit", user_id=done.result.id))
    return render_template("admin/user_invite.html", form=form), done.status


def _load_user(user_id: int) -> User:
    _require(permissions.can_manage_users(current_user))
    return load_or_404(User, user_id, permissions.can_manage_user)


@bp.route("/gebruikers/<int:user_id>", methods=["GET", "POST"])
@login_required
def user_edit(user_id: int):
    target = _load_user(user_id)
    form = UserForm(obj=target) if request.method == "GET" else UserForm()
    if request.method == "GET":
        form.role.data = target.role.value
        form.school.data = target.school_id or 0
        form.venues.data = [v.id for v in target.venues]
    _prepare_user_form(form, target.region_id or 0)
    done = (
        Outcome(False)
        if _picking_region()
        else handle_form(
            form, lambda: services.update_user(current_user, target, _assignment(form)), _("Het account is opgeslagen.")
        )
    )
    if done:
        return redirect(url_for("admin.user_edit", user_id=target.id))
    return render_template("admin/user_edit.html", form=form, target=target), done.status


@bp.post("/gebruikers/<int:user_id>/<action>")
@login_required
def user_action(user_id: int, action: str):
    target = _load_user(user_id)
    actions = {
        "deactiveren": (
            lambda: services.set_user_active(current_user, target, False),
            _("Het account is gedeactiveerd: inloggen en API-sleutels werken niet meer."),
        ),
        "activeren": (lambda: services.set_user_active(current_user, target, True), _("Het account is weer actief.")),
        "uitnodigen": (
            lambda: services.resend_invitation(current_user, target),
            _("Er is een nieuwe uitnodiging verstuurd; eerdere links werken niet meer."),
        ),
    }
    if action not in actions:
        abort(404)
    call, message = actions[action]
    attempt(call, message)
    return redirect(url_for("admin.user_edit", user_id=target.id))


# ------------------------------------------------------------------ school data


def _upload_form(form_cls):
    """The upload form, or an empty one with the size error when the body is too large."""
    try:
        return form_cls(), None
    except RequestEntityTooLarge:
        limit_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        return form_cls(formdata=None), _(
            "Het bestand is te groot (hoogstens %(n)s MB). Er is niets ingelezen.", n=max(limit_mb, 1)
        )


@bp.route("/schoolgegevens/duo", methods=["GET", "POST"])
@login_required
def duo_import():
    """DUO files are imported by the importer the CLI uses, each file in its own transaction."""
    _require(permissions.can_manage_school_data(current_user))
    form, too_large = _upload_form(DuoUploadForm)
    if too_large:
        form.files.errors = [too_large]
        return render_template("admin/duo_import.html", form=form, report=None), 413
    done = handle_form(form, lambda: services.import_duo_uploads(current_user, _duo_uploads(form), form.from_year.data))
    status = 422 if done and not done.result.ok else done.status
    return render_template("admin/duo_import.html", form=form, report=done.result), status


def _duo_uploads(form) -> list:
    return [services.Upload(f.filename or "", f.stream) for f in form.files.data or [] if f and f.filename]


@bp.route("/schoolgegevens/regio", methods=["GET", "POST"])
@login_required
def assign_region():
    """Reassign schools: the first post shows what changes (preview), the second confirms it.
    Who may change what is the services' gate (``permissions.can_reassign_area``); the request's
    unit of work commits a confirmed change."""
    _require(permissions.can_reassign_areas(current_user))
    form = AssignRegionForm()
    form.region.choices = [(r.id, f"{r.name} ({r.code})") for r in services.reassign_targets(current_user)]
    confirm = request.form.get("confirm") == "1"
    done = handle_form(form, lambda: _region_change(form, confirm))
    if done and confirm:
        change, region = done.result
        flash(_("%(n)s scholen zijn toegewezen aan %(region)s.", n=change.schools, region=region.name), "success")
        return redirect(url_for("admin.assign_region"))
    return render_template(
        "admin/assign_region.html",
        form=form,
        areas=services.municipality_overview(current_user),
        preview=done.result if done else None,
        changes=services.recent_region_changes(current_user),
        school_year_label=school_year_label,
    ), done.status


def _region_change(form: AssignRegionForm, confirm: bool):
    """The preview of the change the form asks for, or (confirmed) the change and its region."""
    region = db.session.get(Region, form.region.data)
    codes = services.parse_codes(form.codes.data)
    if not confirm:
        return services.preview_region_change(current_user, region, form.area.data, codes)
    return services.assign_schools_to_region(current_user, region, form.area.data, codes), region


@bp.post("/schoolgegevens/regio/wijzigingen/<int:change_id>/ongedaan")
@login_required
def undo_region_change(change_id: int):
    from app.schools.models import RegionChange

    _require(permissions.can_reassign_areas(current_user))
    change = db.session.get(RegionChange, change_id)
    if change is None:
        abort(404)
    _require(permissions.can_undo_region_change(current_user, change))  # both regions see it; one may undo
    attempt(
        lambda: services.undo_region_change(current_user, change),
        _("De wijziging is ongedaan gemaakt: de scholen en hun leerkrachten horen weer bij hun vorige regio."),
    )
    return redirect(url_for("admin.assign_region"))


@bp.route("/schoolgegevens/vakanties", methods=["GET", "POST"])
@login_required
def holidays():
    _require(permissions.can_manage_school_data(current_user))
    form, too_large = _upload_form(HolidayUploadForm)
    if too_large:
        form.file.errors = [too_large]
        return _holidays_page(form, None), 413
    done = handle_form(form, lambda: _import_holidays(form))
    return _holidays_page(form, done.result), done.status


def _import_holidays(form):
    upload = form.file.data
    if upload is None or not upload.filename:
        raise services.UploadError(_("Kies een bestand."), field="file")
    return services.import_holiday_upload(current_user, services.Upload(upload.filename, upload.read()))


def _holidays_page(form, report) -> str:
    years = services.holiday_years()
    current = school_year_of(utcnow())
    year = int_arg("school_year", current if current in years or not years else years[-1], lo=2000, hi=2100)
    return render_template(
        "admin/holidays.html",
        form=form,
        report=report,
        years=years,
        year=year,
        year_label=school_year_label(year),
        periods=services.holidays_by_region(year),
        school_year_label=school_year_label,
        HOLIDAY_REGION_LABELS=HOLIDAY_REGION_LABELS,
    )
