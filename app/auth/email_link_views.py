"""Sign-in by e-mail link: ask for a link, and use it (routes of the ``auth`` blueprint)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm

from app.auth.email_link import InvalidLinkError, login_link_user, request_login_link, use_login_link
from app.auth.views import bp, mailed_link_form, sign_in


@bp.route("/inloglink", methods=["GET", "POST"])
def login_link_request():
    return mailed_link_form(
        request_login_link,
        _(
            "Als dit e-mailadres bij ons bekend is, krijgt u binnen enkele minuten een e-mail met een "
            "inloglink. De link werkt één keer en is 15 minuten geldig."
        ),
        "auth/login_link_request.html",
    )


@bp.route("/inloglink/<token>", methods=["GET", "POST"])
def login_link(token: str):
    """Opening the link shows a button; pressing it signs in (a mail scanner's GET uses nothing)."""
    user = login_link_user(token)
    form = FlaskForm()
    if user is not None and form.validate_on_submit():
        try:
            user = use_login_link(token, request.remote_addr)
        except InvalidLinkError:  # a 404 commits nothing (app/unit_of_work.py)
            user = None
        else:
            return _signed_in(user)
    if user is None:
        return render_template("auth/login_link_invalid.html"), 404
    return render_template("auth/login_link.html", form=form, user=user)


def _signed_in(user):
    if current_user.is_authenticated:
        logout_user()
    sign_in(user)
    flash(_("U bent ingelogd."), "success")
    return redirect(url_for("main.index"))
