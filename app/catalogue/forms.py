from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from app.inputs import DateField  # dates in 2000–2100 only
from app.labels import OFFER_KIND_LABELS, WORLD_LABELS


class DutchDecimalField(DecimalField):
    """A decimal number typed the Dutch way (7,5) or the English way (7.5)."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [
                v.strip().replace(",", ".") if isinstance(v, str) and v.count(",") == 1 and "." not in v else v
                for v in valuelist
            ]
        super().process_formdata(valuelist)


class OfferFilterForm(FlaskForm):
    """The catalogue's filters (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Zoeken"), validators=[Optional()])
    groep = SelectField(
        _l("Groep"),
        choices=[("", _l("Alle groepen"))] + [(str(g), str(g)) for g in range(1, 9)],
        validators=[Optional()],
    )
    world = SelectField(_l("Wereld van techniek"), validators=[Optional()])
    kind = SelectField(_l("Soort"), validators=[Optional()])
    venue = SelectField(_l("Locatie"), validators=[Optional()])
    date_from = DateField(_l("Vanaf"), validators=[Optional()])
    date_to = DateField(_l("Tot en met"), validators=[Optional()])
    max_km = DutchDecimalField(
        _l("Maximaal aantal km van mijn school"),
        places=None,
        validators=[Optional(), NumberRange(min=1, max=500, message=_l("Kies een afstand van 1 tot 500 km."))],
    )
    only_available = BooleanField(_l("Alleen met plaatsen vrij"))
    bus_only = BooleanField(_l("Alleen met busvervoer"))
    sort = SelectField(
        _l("Sorteren"),
        choices=[
            ("", _l("Standaard")),
            ("distance", _l("Afstand")),
            ("date", _l("Eerste datum")),
            ("title", _l("Titel")),
        ],
        validators=[Optional()],
    )

    def set_choices(self, venues):
        self.world.choices = [("", _l("Alle werelden"))] + [(w.value, label) for w, label in WORLD_LABELS.items()]
        self.kind.choices = [("", _l("Alle soorten"))] + [(k.value, label) for k, label in OFFER_KIND_LABELS.items()]
        self.venue.choices = [("", _l("Alle locaties"))] + [(str(v.id), v.name) for v in venues]
