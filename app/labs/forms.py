from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.inputs import DateField  # dates in 2000–2100 only
from app.labels import OFFER_KIND_LABELS, VENUE_KIND_LABELS, WORLD_LABELS

DAYS = [
    ("1", _l("maandag")),
    ("2", _l("dinsdag")),
    ("3", _l("woensdag")),
    ("4", _l("donderdag")),
    ("5", _l("vrijdag")),
    ("6", _l("zaterdag")),
    ("7", _l("zondag")),
]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VenueForm(FlaskForm):
    kind = SelectField(_l("Soort locatie"), choices=[(k.value, v) for k, v in VENUE_KIND_LABELS.items()])
    name = StringField(_l("Naam"), validators=[DataRequired(message=_l("Vul een naam in.")), Length(max=200)])
    organisation = StringField(_l("Organisatie"), validators=[Optional(), Length(max=200)])
    street = StringField(_l("Straat"), validators=[Optional(), Length(max=200)])
    house_number = StringField(_l("Huisnummer"), validators=[Optional(), Length(max=20)])
    postcode = StringField(_l("Postcode"), validators=[DataRequired(message=_l("Vul de postcode in.")), Length(max=7)])
    city = StringField(_l("Plaats"), validators=[DataRequired(message=_l("Vul de plaats in.")), Length(max=100)])
    latitude = DecimalField(
        _l("Breedtegraad (leeg: uit de postcode)"), places=5, validators=[Optional(), NumberRange(-90, 90)]
    )
    longitude = DecimalField(
        _l("Lengtegraad (leeg: uit de postcode)"), places=5, validators=[Optional(), NumberRange(-180, 180)]
    )
    rooms = TextAreaField(_l("Lokalen"), validators=[Optional(), Length(max=2000)])
    accessibility = TextAreaField(_l("Toegankelijkheid"), validators=[Optional(), Length(max=2000)])
    contact_name = StringField(_l("Contactpersoon"), validators=[Optional(), Length(max=200)])
    contact_email = EmailField(
        _l("E-mailadres"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )
    contact_phone = StringField(_l("Telefoon"), validators=[Optional(), Length(max=30)])
    opening_days = MultiCheckboxField(_l("Open op"), choices=DAYS, default=["1", "2", "3", "4", "5"])


class ClosureForm(FlaskForm):
    starts_on = DateField(_l("Gesloten van"), validators=[DataRequired()])
    ends_on = DateField(_l("tot en met"), validators=[DataRequired()])
    reason = StringField(_l("Reden"), validators=[Optional(), Length(max=200)])


class OfferForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[DataRequired(message=_l("Vul een titel in.")), Length(max=200)])
    description = TextAreaField(_l("Beschrijving"), validators=[Optional(), Length(max=5000)])
    kind = SelectField(_l("Soort"), choices=[(k.value, v) for k, v in OFFER_KIND_LABELS.items()])
    world = SelectField(_l("Wereld van techniek"), choices=[(k.value, v) for k, v in WORLD_LABELS.items()])
    venue_id = SelectField(_l("Locatie"), coerce=int)
    school_year = IntegerField(
        _l("Schooljaar (beginjaar, bijv. 2026 voor 2026/27)"), validators=[InputRequired(), NumberRange(2020, 2100)]
    )
    groep_min = IntegerField(_l("Vanaf groep"), default=5, validators=[InputRequired(), NumberRange(1, 8)])
    groep_max = IntegerField(_l("Tot en met groep"), default=8, validators=[InputRequired(), NumberRange(1, 8)])
    duration_minutes = IntegerField(
        _l("Duur (minuten)"), default=120, validators=[InputRequired(), NumberRange(15, 600)]
    )
    capacity_classes = IntegerField(_l("Klassen per les"), default=1, validators=[InputRequired(), NumberRange(1, 20)])
    capacity_pupils = IntegerField(
        _l("Leerlingen per les"), default=30, validators=[InputRequired(), NumberRange(1, 500)]
    )
    adults_per_class = IntegerField(
        _l("Begeleiders per klas"), default=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    booking_opens_on = DateField(_l("Boeken kan vanaf"), validators=[Optional()])
    booking_closes_on = DateField(_l("Boeken sluit op"), validators=[Optional()])
    cancel_deadline_days = IntegerField(
        _l("Annuleren tot (dagen van tevoren)"), default=14, validators=[InputRequired(), NumberRange(0, 120)]
    )
    booking_horizon_weeks = IntegerField(
        _l("Boeken kan hoogstens … weken van tevoren (leeg: geen grens)"), validators=[Optional(), NumberRange(1, 104)]
    )
    # empty: 0 (booking and changing until the session starts)
    min_notice_days = IntegerField(
        _l("Boeken kan tot uiterlijk … dagen van tevoren"), default=0, validators=[Optional(), NumberRange(0, 120)]
    )
    change_deadline_days = IntegerField(
        _l("Aantallen, contact en klas wijzigen kan tot … dagen van tevoren"),
        default=0,
        validators=[Optional(), NumberRange(0, 120)],
    )
    approval_required = BooleanField(
        _l("Elke boeking eerst goedkeuren (de boeking wacht als ‘aangevraagd’)"), default=False
    )
    preparation = TextAreaField(_l("Wat de school voorbereidt"), validators=[Optional(), Length(max=5000)])
    bus_provided = BooleanField(_l("Vervoer per bus voor scholen verder dan de grens"), default=True)


class PartForm(FlaskForm):
    position = SelectField(_l("Deel"), choices=[("1", "1"), ("2", "2"), ("3", "3")])
    title = StringField(_l("Titel van het deel"), validators=[DataRequired(), Length(max=200)])
    location = SelectField(_l("Waar"), choices=[("at_school", _l("Op de school")), ("venue", _l("Op een locatie"))])
    venue_id = SelectField(_l("Locatie (als het deel op een locatie is)"), coerce=int, validators=[Optional()])
    min_days = IntegerField(
        _l("Minimaal dagen na het vorige deel"), default=3, validators=[InputRequired(), NumberRange(0, 365)]
    )
    max_days = IntegerField(
        _l("Maximaal dagen na het vorige deel"), default=30, validators=[InputRequired(), NumberRange(0, 365)]
    )


class PlanForm(FlaskForm):
    part_id = SelectField(_l("Deel van de reeks"), coerce=int, validators=[Optional()])
    weekdays = MultiCheckboxField(
        _l("Op"), choices=DAYS[:5], validators=[DataRequired(message=_l("Kies minstens één dag."))]
    )
    start = TimeField(_l("Begintijd"), validators=[DataRequired()])
    first_day = DateField(_l("Vanaf"), validators=[DataRequired()])
    last_day = DateField(_l("Tot en met"), validators=[DataRequired()])
    capacity_classes = IntegerField(
        _l("Klassen per les (leeg: van het aanbod)"), validators=[Optional(), NumberRange(1, 20)]
    )
    capacity_pupils = IntegerField(
        _l("Leerlingen per les (leeg: van het aanbod)"), validators=[Optional(), NumberRange(1, 500)]
    )


class StaffForm(FlaskForm):
    name = StringField(_l("Naam"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mailadres"), validators=[Optional(), Email(check_deliverability=False), Length(max=254)])


class KitForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Beschrijving"), validators=[Optional(), Length(max=2000)])
    world = SelectField(_l("Wereld van techniek"), choices=[(k.value, v) for k, v in WORLD_LABELS.items()])
    stock = IntegerField(_l("Aantal exemplaren"), default=1, validators=[InputRequired(), NumberRange(0, 100)])
    loan_days = IntegerField(_l("Uitleenperiode (dagen)"), default=14, validators=[InputRequired(), NumberRange(1, 90)])


class KitReserveForm(FlaskForm):
    starts_on = DateField(_l("Vanaf"), validators=[DataRequired()])
    quantity = IntegerField(_l("Aantal"), default=1, validators=[InputRequired(), NumberRange(1, 100)])
