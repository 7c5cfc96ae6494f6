"""Fairness pages: the region's rules (seen by everyone), request rounds, overrides."""

from __future__ import annotations

from datetime import time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.auth import permissions
from app.auth.models import Region
from app.booking import rounds as round_service
from app.booking.fairness import explain, rules_in_force
from app.booking.forms import GROEP_CHOICES
from app.booking import queries
from app.booking.models import FairnessRule, RequestRound, RuleKind, RuleScope
from app.booking.services import add_rule
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.labels import OFFER_KIND_LABELS, WORLD_LABELS
from app.labs.models import Offer, OfferKind, World
from app.timeutil import local_to_utc, school_year_label, school_year_of
from app.web import attempt, handle_form, int_arg, load_or_404

bp = Blueprint("fairness", __name__, template_folder="templates")


class RuleForm(FlaskForm):
    kind = SelectField(
        _l("Soort regel"),
        choices=[
            (RuleKind.MAX_PER_SCHOOL.value, _l("Hoogstens N boekingen per school")),
            (RuleKind.MAX_PER_CLASS.value, _l("Hoogstens N boekingen per klas")),
            (RuleKind.PRIORITY_WINDOW.value, _l("Voorrang voor scholen die nog niet bereikt zijn")),
        ],
    )
    scope = SelectField(
        _l("Geldt voor"),
        choices=[
            (RuleScope.YEAR.value, _l("Het hele schooljaar")),
            (RuleScope.TERM.value, _l("Een periode")),
            (RuleScope.OFFER.value, _l("Elk aanbod apart")),
            (RuleScope.OFFER_KIND.value, _l("Een soort aanbod")),
            (RuleScope.WORLD.value, _l("Een wereld van techniek")),
        ],
    )
    scope_value = SelectField(_l("Soort aanbod of wereld (indien van toepassing)"), validators=[Optional()])
    max_count = IntegerField(_l("Maximum (N)"), validators=[Optional(), NumberRange(min=0, max=100)])
    max_reach_share = DecimalField(
        _l("Voorrang tot dit deel van de leerlingen bereikt is (0–1, leeg = nog niet bereikt)"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=1)],
    )
    window_start = DateField(_l("Vanaf (periode of voorrang)"), validators=[Optional()])
    window_end = DateField(_l("Tot (einde periode of vrijgavedatum)"), validators=[Optional()])
    description = StringField(_l("Toelichting"), validators=[Optional(), Length(max=500)])

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.scope_value.choices = (
            [("", "—")]
            + [(k.value, str(OFFER_KIND_LABELS.get(k, k.value))) for k in OfferKind]
            + [(w.value, str(WORLD_LABELS[w])) for w in World]
        )  # names, never the codes


class RoundForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Toelichting"), validators=[Optional(), Length(max=2000)])
    opens_on = DateField(_l("Open vanaf"), validators=[DataRequired()])
    deadline_on = DateField(_l("Sluit op (toewijzing om 17:00)"), validators=[DataRequired()])
    period_start = DateField(_l("Lessen vanaf"), validators=[DataRequired()])
    period_end = DateField(_l("Lessen tot en met"), validators=[DataRequired()])
    weight_distance = DecimalField(
        _l("Gewicht afstand (0–5)"), default=1, places=1, validators=[InputRequired(), NumberRange(min=0, max=5)]
    )
    weight_cbs = DecimalField(
        _l("Gewicht CBS-schoolgewicht (0–5)"),
        default=0,
        places=1,
        validators=[InputRequired(), NumberRange(min=0, max=5)],
    )


class RequestForm(FlaskForm):
    groep = SelectField(_l("Groep"), choices=GROEP_CHOICES)
    pupils = IntegerField(_l("Aantal leerlingen"), validators=[InputRequired(), NumberRange(min=1, max=40)])
    adults = IntegerField(_l("Aantal begeleiders"), validators=[InputRequired(), NumberRange(min=0, max=10)])
    wish1 = SelectField(_l("Eerste keus"), coerce=int)
    wish2 = SelectField(_l("Tweede keus"), coerce=int, validators=[Optional()])
    wish3 = SelectField(_l("Derde keus"), coerce=int, validators=[Optional()])


def _region_id():
    if permissions.is_admin(current_user):
        return int_arg("region", lo=1)
    return current_user.region_id


@bp.route("/spelregels", methods=["GET", "POST"])
@login_required
def rules():
    region_id = _region_id()
    year = int_arg("school_year", lo=2000, hi=2100) or school_year_of(utcnow())
    region = db.session.get(Region, region_id) if region_id else None
    can_edit = region is not None and permissions.can_set_rules(current_user, region)
    if request.method == "POST" and not can_edit:
        abort(403)
    form = RuleForm()
    if handle_form(
        form, lambda: add_rule(current_user, region, year, **_rule_fields(form)), _("De regel is toegevoegd.")
    ):
        return redirect(url_for("fairness.rules"))
    return render_template(
        "fairness/rules.html",
        rules=rules_in_force(region_id, year) if region_id else [],
        explain=explain,
        form=form,
        can_edit=can_edit,
        year_label=school_year_label(year),
        overrides=queries.region_overrides(region_id) if region_id else [],
    ), (422 if form.errors else 200)


def _rule_fields(form: RuleForm) -> dict:
    return dict(
        kind=RuleKind(form.kind.data),
        scope=RuleScope(form.scope.data),
        scope_value=form.scope_value.data or "",
        max_count=form.max_count.data,
        max_reach_share=float(form.max_reach_share.data) if form.max_reach_share.data is not None else None,
        window_start=local_to_utc(form.window_start.data, time(0)) if form.window_start.data else None,
        window_end=local_to_utc(form.window_end.data, time(0)) if form.window_end.data else None,
        description=form.description.data or "",
    )


@bp.post("/spelregels/<int:rule_id>/uit")
@login_required
def deactivate_rule(rule_id: int):
    from app.booking.services import switch_rule_off

    rule = load_or_404(FairnessRule, rule_id, lambda u, r: permissions.can_set_rules(u, r))
    switch_rule_off(current_user, rule.id)  # a refusal is the error page's (and nothing is committed)
    flash(_("De regel is uitgezet; klassen die hij op de wachtlijst hield, krijgen nu de vrije plaatsen."), "success")
    return redirect(url_for("fairness.rules"))


@bp.route("/aanvraagrondes", methods=["GET", "POST"])
@login_required
def rounds():
    region_id = _region_id()
    region = db.session.get(Region, region_id) if region_id else None
    can_create = region is not None and permissions.can_manage_rounds(current_user, region)
    if request.method == "POST" and not can_create:
        abort(403)
    form = RoundForm()
    done = handle_form(form, lambda: _create_round(form), field="title")
    if done:
        return redirect(url_for("fairness.round_detail", round_id=done.result.id))
    items = queries.region_rounds(region_id) if region_id else []
    return render_template(
        "fairness/rounds.html",
        rounds=items,
        form=form,
        can_create=can_create,
        now=utcnow(),
        status_label=round_service.status_label,
    ), done.status


def _create_round(form: RoundForm) -> RequestRound:
    try:
        return round_service.create_round(
            current_user,
            title=form.title.data,
            description=form.description.data or "",
            opens_at=local_to_utc(form.opens_on.data, time(0)),
            deadline_at=local_to_utc(form.deadline_on.data, time(17)),
            school_year=school_year_of(form.period_start.data),
            period_start=form.period_start.data,
            period_end=form.period_end.data,
            weight_distance=float(form.weight_distance.data),
            weight_cbs=float(form.weight_cbs.data),
        )
    except DomainError as exc:  # the form asks for the deadline's day
        exc.field = {"deadline_at": "deadline_on"}.get(exc.field, exc.field)
        raise


def _offer_choices(rnd: RequestRound):
    offers = db.session.scalars(
        select(Offer).where(Offer.region_id == rnd.region_id, Offer.published.is_(True)).order_by(Offer.title)
    ).all()
    return [(o.id, o.title) for o in offers if not o.is_series]


@bp.route("/aanvraagrondes/<int:round_id>", methods=["GET", "POST"])
@login_required
def round_detail(round_id: int):
    rnd = load_or_404(RequestRound, round_id)
    form = _request_form(rnd)
    teacher = permissions.is_teacher(current_user)
    if (
        request.method == "POST"
        and teacher
        and handle_form(
            form,
            lambda: _submit_request(rnd, form),
            _("Uw aanvraag is ontvangen. Na de sluitingsdatum hoort u wat u krijgt."),
        )
    ):
        return redirect(url_for("fairness.round_detail", round_id=rnd.id))
    return _round_page(rnd, form, teacher)


def _round_page(rnd: RequestRound, form: RequestForm, teacher: bool) -> str:
    return render_template(
        "fairness/round.html",
        rnd=rnd,
        form=form,
        mine=[r for r in rnd.requests if r.school_id == current_user.school_id] if teacher else [],
        manage=permissions.can_manage_rounds(current_user, rnd),
        now=utcnow(),
        describe=round_service.describe_outcome,
        status_label=round_service.status_label,
        decimal=format_decimal,
        requests=sorted(rnd.requests, key=lambda r: (r.priority is None, r.priority or 0, r.id)),
    )


def _request_form(rnd: RequestRound) -> RequestForm:
    form = RequestForm()
    choices = _offer_choices(rnd)
    form.wish1.choices = choices
    form.wish2.choices = form.wish3.choices = [(0, "—")] + choices
    return form


def _submit_request(rnd: RequestRound, form: RequestForm):
    wishes = [(w, None) for w in (form.wish1.data, form.wish2.data, form.wish3.data) if w]
    return round_service.submit_request(
        current_user, rnd.id, groep=form.groep.data, pupils=form.pupils.data, adults=form.adults.data, wishes=wishes
    )


@bp.post("/aanvraagrondes/<int:round_id>/<action>")
@login_required
def round_action(round_id: int, action: str):
    rnd = load_or_404(RequestRound, round_id)
    if not permissions.can_manage_rounds(current_user, rnd) or action not in ("voorbeeld", "toewijzen"):
        abort(403)
    if action == "voorbeeld":
        attempt(
            lambda: round_service.preview_round(current_user, rnd.id),
            _("Voorbeeld van de toewijzing berekend (nog niet geboekt)."),
        )
    else:
        attempt(
            lambda: round_service.commit_round(current_user, rnd.id),
            _("De toewijzing is vastgelegd; scholen krijgen bericht."),
        )
    return redirect(url_for("fairness.round_detail", round_id=rnd.id))
