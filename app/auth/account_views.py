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
from app.web import attempt, handle_form, load_or_404

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
    done = handle_form(
        form, lambda: delete_account(current_user._get_current_object(), form.password.data, form.email.data)
    )
    if done:
        logout_user()
        flash(_("Uw account en uw persoonsgegevens zijn verwijderd."), "success")
        return redirect(url_for("main.index"))
    return render_template("account/delete.html", form=form), done.status


@bp.route("/wachtwoord", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    done = handle_form(
        form,
        lambda: _change_password(current_user._get_current_object(), form),
        _("Uw wachtwoord is gewijzigd. Op andere apparaten bent u uitgelogd en uw API-sleutels zijn ingetrokken."),
    )
    if done:
        return redirect(url_for("account.my_data"))
    return render_template("account/password.html", form=form), done.status


def _change_password(user, form) -> None:
    from app.auth.views import sign_in

    change_password(user, form.current_password.data, form.password.data)
    sign_in(user)  # this browser goes on in a new sign-in session; all others (and API keys) ended


@bp.route("/api-sleutels", methods=["GET", "POST"])
@login_required
def tokens():
    """The secret of a new key is shown on this page only, once (201); never flashed into the session cookie."""
    form = ApiTokenForm()
    done = handle_form(form, lambda: _create_token(form))
    if done:
        form = ApiTokenForm(formdata=None)
    return render_template(
        "account/tokens.html", form=form, secret=done.result, tokens=user_api_tokens(current_user), now=utcnow()
    ), (201 if done else done.status)


def _create_token(form) -> str:
    from datetime import timedelta

    days = min(int(form.days.data), current_app.config["API_TOKEN_DAYS"])
    _token, secret = create_api_token(
        current_user, name=form.name.data.strip(), expires_at=utcnow() + timedelta(days=days)
    )
    return secret


@bp.post("/api-sleutels/<int:token_id>/intrekken")
@login_required
def revoke_token(token_id: int):
    token = load_or_404(ApiToken, token_id, permissions.can_manage_api_token)
    attempt(lambda: revoke_api_token(token), _("De sleutel is ingetrokken; hij werkt niet meer."))
    return redirect(url_for("account.tokens"))
