"""Sign in and out."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app.auth.models import User
from app.auth.services import AuthError, ThrottledError, authenticate
from app.extensions import db, login_manager
from app.web import safe_next

bp = Blueprint("auth", __name__, template_folder="templates")


@login_manager.user_loader
def load_user(user_id: str):
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mailadres"), validators=[DataRequired(message=_l("Vul uw e-mailadres in.")), Length(max=254)])
    password = PasswordField(_l("Wachtwoord"), validators=[DataRequired(message=_l("Vul uw wachtwoord in.")), Length(max=200)])


@bp.route("/inloggen", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, request.remote_addr)
        except ThrottledError as exc:
            form.email.errors.append(exc.message)
            status = 429
        except AuthError as exc:
            form.password.errors.append(exc.message)
            status = 401
        else:
            login_user(user)
            db.session.commit()
            flash(_("U bent ingelogd."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("main.index")))
    elif form.errors:
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/uitloggen")
@login_required
def logout():
    logout_user()
    flash(_("U bent uitgelogd."), "info")
    return redirect(url_for("main.index"))
