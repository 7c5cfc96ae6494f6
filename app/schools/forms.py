"""Forms of the school coordinator's pages: they check shape; app.schools.coordinator checks rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from app.booking.forms import GROEP_CHOICES


class InviteTeacherForm(FlaskForm):
    email = EmailField(
        _l("E-mailadres"),
        validators=[
            DataRequired(message=_l("Vul een e-mailadres in.")),
            Email(message=_l("Geen geldig e-mailadres."), check_deliverability=False),
            Length(max=254),
        ],
    )
    name = StringField(_l("Naam"), validators=[Optional(), Length(max=200)])
    locale = SelectField(_l("Taal van de e-mails"), choices=[("nl", "Nederlands"), ("en", "English")], default="nl")


class SchoolClassForm(FlaskForm):
    school_year = SelectField(_l("Schooljaar"), coerce=int, validators=[InputRequired()])
    name = StringField(
        _l("Naam van de klas (bijvoorbeeld 7B)"),
        validators=[DataRequired(message=_l("Geef de klas een naam.")), Length(max=40)],
    )
    groep = SelectField(_l("Groep"), choices=GROEP_CHOICES, validators=[DataRequired(message=_l("Kies een groep."))])
    pupils = IntegerField(
        _l("Aantal leerlingen"),
        validators=[
            InputRequired(message=_l("Vul het aantal leerlingen in.")),
            NumberRange(min=1, max=40, message=_l("Tussen 1 en 40.")),
        ],
    )
