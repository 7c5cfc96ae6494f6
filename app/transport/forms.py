"""Forms of the transport pages: they check shape; the rules are the service's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DecimalField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, Regexp


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""


class FlagForm(FlaskForm):
    value = HiddenField(validators=[AnyOf(["0", "1"])])


class MoveStopForm(FlaskForm):
    target = SelectField(
        _l("Naar bus"),
        validate_choice=False,
        validators=[DataRequired(message=_l("Kies een bus.")), Regexp(r"^(bus|type):\d+$")],
    )


class HireForm(FlaskForm):
    """Hire extra buses of a type for a day (the number replaces what was hired; 0: none)."""

    datum = StringField(validators=[DataRequired(), Regexp(r"^\d{4}-\d{2}-\d{2}$")])
    bus_type = StringField(validators=[DataRequired(), Regexp(r"^\d{1,10}$")])
    count = IntegerField(validators=[InputRequired(), NumberRange(0, 20)])


class AskSchoolForm(FlaskForm):
    booking = StringField(validators=[DataRequired(), Regexp(r"^\d{1,10}$")])


class RoadDistanceForm(FlaskForm):
    school = StringField(
        _l("School (DUO-vestigingscode, bijv. 12AB00)"),
        validators=[DataRequired(message=_l("Vul de vestigingscode in.")), Length(max=6)],
    )
    venue = SelectField(_l("Locatie"), coerce=int)
    km = DecimalField(
        _l("Afstand over de weg (km)"),
        places=1,
        validators=[InputRequired(message=_l("Vul de afstand in.")), NumberRange(0, 500)],
    )
    minutes = DecimalField(_l("Rijtijd (minuten, mag leeg)"), places=0, validators=[Optional(), NumberRange(1, 600)])


class RoadDistanceImportForm(FlaskForm):
    file = FileField(
        _l("CSV-bestand (kolommen school, venue, km, minutes)"),
        validators=[FileRequired(message=_l("Kies een bestand."))],
    )
