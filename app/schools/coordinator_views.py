"""The school coordinator's pages (Mijn school): the school's teachers, classes and bookings.

Every page is about the signed-in school coordinator's own school; objects named in a URL
(a teacher, a class) of another region answer 404, of another school of the region 403.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.auth import permissions
from app.auth.models import User
from app.db import utcnow
from app.schools import coordinator
from app.schools.forms import InviteTeacherForm, SchoolClassForm
from app.schools.models import SchoolClass
from app.timeutil import school_year_label
from app.web import attempt, handle_form, int_arg, load_or_404

bp = Blueprint("school", __name__, template_folder="templates", url_prefix="/mijn-school")


def _require_own_school():
    if not permissions.can_manage_school(current_user, current_user.school):
        abort(403)
    return current_user.school


@bp.route("/leerkrachten", methods=["GET", "POST"])
@login_required
def teachers():
    school = _require_own_school()
    form = InviteTeacherForm()
    done = handle_form(
        form,
        lambda: coordinator.invite_teacher(current_user, form.email.data, form.name.data or "", form.locale.data),
        lambda user: _("%(email)s is uitgenodigd en krijgt een e-mail met een link.", email=user.email),
    )
    if done:
        return redirect(url_for("school.teachers"))
    teachers = coordinator.school_teachers(current_user)
    return render_template(
        "school/teachers.html", school=school, form=form, action_form=FlaskForm(), teachers=teachers
    ), done.status


@bp.post("/leerkrachten/<int:user_id>/verwijderen")
@login_required
def remove_teacher(user_id: int):
    _require_own_school()
    target = load_or_404(User, user_id, permissions.can_manage_school_teacher)
    if FlaskForm().validate_on_submit():
        attempt(
            lambda: coordinator.remove_teacher(current_user, target),
            _("%(email)s kan niet meer inloggen en boeken voor de school.", email=target.email),
        )
    return redirect(url_for("school.teachers"))


@bp.route("/klassen", methods=["GET", "POST"])
@login_required
def classes():
    school = _require_own_school()
    form, year, years = _class_form()
    done = handle_form(
        form,
        lambda: coordinator.add_class(current_user, _class_input(form)),
        lambda added: _("Klas %(name)s is toegevoegd.", name=added.name),
    )
    if done:
        return redirect(url_for("school.classes", jaar=done.result.school_year))
    return render_template(
        "school/classes.html",
        school=school,
        form=form,
        action_form=FlaskForm(),
        year=year,
        years=years,
        year_label=school_year_label,
        classes=coordinator.school_classes(current_user, year),
    ), done.status


def _class_form() -> tuple[SchoolClassForm, int, list[int]]:
    """The new-class form for the school year asked for (?jaar=, else the current one)."""
    years = coordinator.school_years(utcnow())
    year = int_arg("jaar", years[0])
    if year not in years:
        year = years[0]
    form = SchoolClassForm(school_year=year)
    form.school_year.choices = [(y, school_year_label(y)) for y in years]
    return form, year, years


def _class_input(form) -> coordinator.ClassInput:
    return coordinator.ClassInput(
        school_year=form.school_year.data, name=form.name.data, groep=form.groep.data, pupils=form.pupils.data
    )


@bp.post("/klassen/<int:class_id>/verwijderen")
@login_required
def remove_class(class_id: int):
    _require_own_school()
    school_class = load_or_404(SchoolClass, class_id, permissions.can_manage_school_class)
    year, name = school_class.school_year, school_class.name
    if FlaskForm().validate_on_submit():
        attempt(
            lambda: coordinator.remove_class(current_user, school_class), _("Klas %(name)s is verwijderd.", name=name)
        )
    return redirect(url_for("school.classes", jaar=year))


@bp.get("/boekingen")
@login_required
def bookings():
    school = _require_own_school()
    rows = coordinator.school_bookings(current_user)
    now = utcnow()
    return render_template(
        "school/bookings.html",
        school=school,
        now=now,
        upcoming=[b for b in rows if b.session.starts_at > now],
        past=[b for b in rows if b.session.starts_at <= now][::-1],
    )
