from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

GROEP_CHOICES = [(str(g), str(g)) for g in range(1, 9)] + [
    ("%d/%d" % (g, g + 1), "%d/%d" % (g, g + 1)) for g in range(1, 8)
]


def groep_choices(groep_min: int = 1, groep_max: int = 8) -> list[tuple[str, str]]:
    """The groepen of an offer for the select: each groep, and each combination of two within it."""
    return [
        (v, label)
        for v, label in GROEP_CHOICES
        if groep_min <= int(v.split("/")[0]) and int(v.split("/")[-1]) <= groep_max
    ]


class ClassForm(FlaskForm):
    """The class that books: a short form (groep, numbers, contact, remarks)."""

    groep = SelectField(_l("Groep"), choices=GROEP_CHOICES, validators=[DataRequired(message=_l("Kies een groep."))])
    pupils = IntegerField(
        _l("Aantal leerlingen"),
        validators=[
            InputRequired(message=_l("Vul het aantal leerlingen in.")),
            NumberRange(min=1, max=40, message=_l("Tussen 1 en 40.")),
        ],
    )
    adults = IntegerField(
        _l("Aantal begeleiders"),
        validators=[
            InputRequired(message=_l("Vul het aantal begeleiders in.")),
            NumberRange(min=0, max=10, message=_l("Tussen 0 en 10.")),
        ],
    )
    girls = IntegerField(_l("Aantal meisjes (optioneel)"), validators=[Optional(), NumberRange(min=0, max=40)])
    boys = IntegerField(_l("Aantal jongens (optioneel)"), validators=[Optional(), NumberRange(min=0, max=40)])
    contact_name = StringField(
        _l("Contactpersoon"), validators=[DataRequired(message=_l("Vul een naam in.")), Length(max=200)]
    )
    contact_email = EmailField(
        _l("E-mailadres contactpersoon"),
        validators=[
            DataRequired(message=_l("Vul een e-mailadres in.")),
            Email(message=_l("Geen geldig e-mailadres."), check_deliverability=False),
            Length(max=254),
        ],
    )
    remarks = TextAreaField(
        _l("Opmerkingen (bijvoorbeeld toegankelijkheid)"), validators=[Optional(), Length(max=2000)]
    )
    class_name = StringField(
        _l("Naam van de klas (optioneel, bijvoorbeeld 7A)"), validators=[Optional(), Length(max=40)]
    )


class BookingForm(ClassForm):
    # not ticked by default: a class only waits when the teacher asked for it, and a refusal is never hidden
    waitlist = BooleanField(
        _l(
            "Kan mijn klas nu niet geboekt worden (vol, of een spelregel houdt haar tegen)? Zet haar dan "
            "op de wachtlijst"
        ),
        default=False,
    )


class SeriesForm(ClassForm):
    pass


class ChangeForm(ClassForm):
    """Changing a booking: the class, its counts, contact and remarks (not the gender counts)."""

    girls = None
    boys = None


class DeclineRequestForm(FlaskForm):
    reason = TextAreaField(
        _l("Reden (de school krijgt die te lezen)"),
        validators=[DataRequired(message=_l("Geef een reden.")), Length(max=500)],
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reden"), validators=[Optional(), Length(max=500)])


class MoveForm(FlaskForm):
    session_id = SelectField(_l("Nieuwe datum"), coerce=int, validators=[DataRequired()])
    reason = TextAreaField(_l("Reden"), validators=[DataRequired(message=_l("Geef een reden.")), Length(max=500)])


class CapacityForm(FlaskForm):
    capacity_pupils = IntegerField(
        _l("Capaciteit (leerlingen)"), validators=[InputRequired(), NumberRange(min=0, max=500)]
    )
    capacity_classes = IntegerField(
        _l("Capaciteit (klassen)"), validators=[InputRequired(), NumberRange(min=0, max=20)]
    )


class AttendanceForm(FlaskForm):
    status = SelectField(
        _l("Aanwezigheid"),
        choices=[
            ("attended", _l("Aanwezig")),
            ("no_show", _l("Niet verschenen")),
            ("cancelled_late", _l("Te laat geannuleerd")),
        ],
    )
    attended_pupils = IntegerField(
        _l("Aantal aanwezige leerlingen"), validators=[Optional(), NumberRange(min=0, max=45)]
    )


class OverrideForm(FlaskForm):
    # the school by name (the page offers the region's schools to choose from) or its vestigingscode
    school_code = StringField(_l("School"), validators=[DataRequired(), Length(max=300)])
    groep = StringField(_l("Groep"), validators=[DataRequired(), Length(max=5)])
    pupils = IntegerField(_l("Aantal leerlingen"), validators=[InputRequired(), NumberRange(min=1, max=40)])
    adults = IntegerField(_l("Aantal begeleiders"), validators=[InputRequired(), NumberRange(min=0, max=10)])
    reason = StringField(_l("Reden van de uitzondering"), validators=[DataRequired(), Length(max=500)])
    class_name = StringField(
        _l("Naam van de klas (optioneel, bijvoorbeeld 7A)"), validators=[Optional(), Length(max=40)]
    )
