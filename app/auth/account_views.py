"""The signed-in person's own account: my data (view, export, delete), password, API tokens."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from app.auth import permissions
from app.auth.forms import ApiTokenForm, ChangePasswordForm, DeleteAccountForm
from app.auth.models import ApiToken
from app.auth.privacy import delete_account, export_user_data
from app.auth.services import change_password
from app.auth.tokens import create_api_token, revoke_api_token, user_api_tokens
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.web import load_or_404, put_back, run_and_flash

bp = Blueprint("account", __name__, template_folder="templates", url_prefix="/mijn-account")


@bp.get("/")
@login_required
def my_data():
    return render_template("account/my_data.html", data=export_user_data(current_user), form=DeleteAccountForm())


@bp.get("/gegevens.json")
@login_required
def export():
    now = utcnow()
    body = json.dumps(export_user_data(current_user, now), ensure_ascii=False, indent=2)
    resp = Response(body, mimetype="application/json")
    from app.inputs import content_disposition

    resp.headers["Content-Disposition"] = content_disposition(f"mijn-gegevens-{now:%Y%m%d}.json")
    return resp


@bp.route("/verwijderen", methods=["GET", "POST"])
@login_required
def delete():
    form = DeleteAccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            delete_account(current_user._get_current_object(), form.password.data, form.email.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            put_back(form, exc)
            status = 422
        else:
            logout_user()
            flash(_("Uw account en uw persoonsgegevens zijn verwijderd."), "success")
            return redirect(url_for("main.index"))
    elif form.errors:
        status = 422
    return render_template("account/delete.html", form=form), status


@bp.route("/wachtwoord", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(user, form.current_password.data, form.password.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            put_back(form, exc)
            status = 422
        else:
            from app.auth.views import sign_in

            sign_in(user)  # this browser goes on in a new sign-in session; all others (and API keys) ended
            db.session.commit()
            flash(
                _(
                    "Uw wachtwoord is gewijzigd. Op andere apparaten bent u uitgelogd en uw API-sleutels zijn "
                    "ingetrokken."
                ),
                "success",
            )
            return redirect(url_for("account.my_data"))
    elif form.errors:
        status = 422
    return render_template("account/password.html", form=form), status


@bp.route("/api-sleutels", methods=["GET", "POST"])
@login_required
def tokens():
    from datetime import timedelta

    form = ApiTokenForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        days = min(int(form.days.data), current_app.config["API_TOKEN_DAYS"])
        _token, secret = create_api_token(
            current_user, name=form.name.data.strip(), expires_at=utcnow() + timedelta(days=days)
        )
        db.session.commit()
        status = 201  # the secret is shown on this page only, once; never flashed into the session cookie
        form = ApiTokenForm(formdata=None)
    elif form.errors:
        status = 422
    return render_template(
        "account/tokens.html", form=form, secret=secret, tokens=user_api_tokens(current_user), now=utcnow()
    ), status


@bp.post("/api-sleutels/<int:token_id>/intrekken")
@login_required
def revoke_token(token_id: int):
    token = load_or_404(ApiToken, token_id, permissions.can_manage_api_token)
    run_and_flash(lambda: revoke_api_token(token), _("De sleutel is ingetrokken; hij werkt niet meer."))
    return redirect(url_for("account.tokens"))
