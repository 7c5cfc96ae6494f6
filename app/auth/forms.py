"""Forms of the sign-in, password and account pages: they check shape; the services check rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.auth.services import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mailadres"), validators=[DataRequired(message=_l("Vul uw e-mailadres in.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Wachtwoord"), validators=[DataRequired(message=_l("Vul uw wachtwoord in.")), Length(max=200)]
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mailadres"), validators=[DataRequired(message=_l("Vul uw e-mailadres in.")), Length(max=254)]
    )


def _new_password_fields():
    password = PasswordField(
        _l("Nieuw wachtwoord"),
        validators=[DataRequired(message=_l("Vul een nieuw wachtwoord in.")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    confirm = PasswordField(
        _l("Herhaal het nieuwe wachtwoord"),
        validators=[
            DataRequired(message=_l("Herhaal het nieuwe wachtwoord.")),
            EqualTo("password", message=_l("De wachtwoorden zijn niet gelijk.")),
        ],
    )
    return password, confirm


class ResetPasswordForm(FlaskForm):
    password, confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Huidig wachtwoord"),
        validators=[DataRequired(message=_l("Vul uw huidige wachtwoord in.")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    password, confirm = _new_password_fields()


class ApiTokenForm(FlaskForm):
    name = StringField(
        _l("Naam (waarvoor gebruikt u de sleutel?)"),
        validators=[DataRequired(message=_l("Geef de sleutel een naam.")), Length(max=100)],
    )
    days = SelectField(
        _l("Geldig"), choices=[("30", _l("30 dagen")), ("90", _l("90 dagen")), ("365", _l("een jaar"))], default="90"
    )


class DeleteAccountForm(FlaskForm):
    """An account with a password confirms with it; one without (school account, e-mail link)
    with its e-mail address (the service decides which applies)."""

    password = PasswordField(_l("Uw wachtwoord"), validators=[Optional(), Length(max=MAX_PASSWORD_LENGTH)])
    email = EmailField(_l("Uw e-mailadres"), validators=[Optional(), Length(max=254)])
