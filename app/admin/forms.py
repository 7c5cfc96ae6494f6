"""Forms of the administration pages: they check shape; app/admin/services.py checks the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, DecimalField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from app.auth.models import HolidayRegion, Role
from app.labels import ROLE_LABELS
from app.labs.forms import MultiCheckboxField

HOLIDAY_REGION_LABELS = {
    HolidayRegion.NOORD: _l("Noord"),
    HolidayRegion.MIDDEN: _l("Midden"),
    HolidayRegion.ZUID: _l("Zuid"),
}


class RegionSettingsForm(FlaskForm):
    """What a programme leader sets for their own region."""

    holiday_region = SelectField(_l("Vakantieregio"), choices=[(k.value, v) for k, v in HOLIDAY_REGION_LABELS.items()])
    bus_threshold_km = DecimalField(
        _l("Busgrens (km): scholen verder weg krijgen een bus"),
        places=1,
        validators=[InputRequired(message=_l("Vul de busgrens in."))],
    )
    road_factor = DecimalField(
        _l("Omrijfactor (afstand over de weg ÷ hemelsbrede afstand)"),
        places=2,
        validators=[InputRequired(message=_l("Vul de omrijfactor in."))],
    )
    collect_gender_counts = BooleanField(
        _l("Leerkrachten vragen naar het aantal meisjes en jongens (optioneel, per klas)")
    )
    classes_per_school_session = IntegerField(
        _l("Hoeveel klassen van één school mogen dezelfde les boeken"),
        default=1,
        validators=[Optional(), NumberRange(min=1, max=20, message=_l("Van 1 tot en met 20."))],
    )
    offer_hours = IntegerField(
        _l("Bedenktijd voor een plaats van de wachtlijst binnen de annuleringstermijn (uren)"),
        default=48,
        validators=[Optional(), NumberRange(min=1, max=336, message=_l("Van 1 tot en met 336 uur."))],
    )
    bus_share_detour_minutes = IntegerField(
        _l("Gedeelde bus: hoogstens zoveel minuten rijden tussen twee locaties"),
        default=10,
        validators=[Optional(), NumberRange(min=0, max=60, message=_l("Van 0 tot en met 60 minuten."))],
    )


class RegionForm(RegionSettingsForm):
    """The administrator's form: code and name as well."""

    code = StringField(_l("Code"), validators=[DataRequired(message=_l("Vul een code in.")), Length(max=40)])
    name = StringField(_l("Naam"), validators=[DataRequired(message=_l("Vul een naam in.")), Length(max=200)])
    password_login_off = BooleanField(
        _l("Inloggen met wachtwoord uit voor leerkrachten: zij loggen in met hun schoolaccount")
    )


class UserFilterForm(FlaskForm):
    """Filters of the account list (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    email = StringField(_l("Zoek op e-mailadres"), validators=[Optional(), Length(max=254)])
    role = SelectField(
        _l("Rol"),
        choices=[("", _l("Alle rollen"))] + [(r.value, ROLE_LABELS[r.value]) for r in Role],
        validators=[Optional()],
    )
    region = SelectField(_l("Regio"), validators=[Optional()])
    school = SelectField(_l("School"), validators=[Optional()])
    active = SelectField(
        _l("Status"),
        choices=[("", _l("Alle")), ("1", _l("Actief")), ("0", _l("Gedeactiveerd"))],
        validators=[Optional()],
    )


class UserForm(FlaskForm):
    """An account's role and where it belongs. The school and venue choices are those of
    the chosen region (set by the page); "Regio kiezen" shows them without saving."""

    name = StringField(_l("Naam"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Rol"), choices=[(r.value, ROLE_LABELS[r.value]) for r in Role])
    region = SelectField(_l("Regio"), coerce=int)
    school = SelectField(_l("School (voor een leerkracht)"), coerce=int, validators=[Optional()])
    venues = MultiCheckboxField(_l("Locaties (voor een techlab-coördinator)"), coerce=int, validators=[Optional()])


class InviteForm(UserForm):
    email = EmailField(
        _l("E-mailadres"),
        validators=[
            DataRequired(message=_l("Vul een e-mailadres in.")),
            Email(message=_l("Geen geldig e-mailadres."), check_deliverability=False),
            Length(max=254),
        ],
    )
    locale = SelectField(_l("Taal van de uitnodiging"), choices=[("nl", "Nederlands"), ("en", "English")])


class DuoUploadForm(FlaskForm):
    files = MultipleFileField(
        _l("DUO-bestanden (CSV): vestigingen, leerlingen per jaar, leerlingen per leeftijd"),
        render_kw={"accept": ".csv,text/csv"},
    )
    from_year = IntegerField(
        _l("Leerlingaantallen vanaf schooljaar (beginjaar)"),
        default=2019,
        validators=[InputRequired(), NumberRange(min=2000, max=2100)],
    )


class HolidayUploadForm(FlaskForm):
    file = FileField(_l("Vakantiebestand (CSV)"), render_kw={"accept": ".csv,text/csv"})


class AssignRegionForm(FlaskForm):
    region = SelectField(_l("Regio"), coerce=int)
    area = SelectField(
        _l("Soort gebied"),
        choices=[
            ("municipality", _l("Gemeenten (gemeentecode)")),
            ("nodal", _l("Nodale gebieden (code)")),
            ("corop", _l("COROP-gebieden (code)")),
        ],
    )
    codes = TextAreaField(
        _l("Codes, gescheiden door komma's of spaties"),
        validators=[DataRequired(message=_l("Vul een of meer codes in.")), Length(max=5000)],
    )
