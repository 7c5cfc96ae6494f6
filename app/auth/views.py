"""Sign in and out; forgotten passwords."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import ForgotPasswordForm, LoginForm, ResetPasswordForm
from app.auth.models import User
from app.auth import services
from app.auth.services import AuthError, ThrottledError, authenticate, request_password_reset, reset_token_user
from app.extensions import login_manager
from app.web import handle_form, safe_next

bp = Blueprint("auth", __name__, template_folder="templates")


@login_manager.user_loader
def load_user(session_id: str):
    """The session holds "<user id>:<session version>:<sign-in session id>" (User.get_id).
    Signing out ends the sign-in session on the server; a raised version (new password,
    reset, deactivation) ends every session made before it."""
    parts = (session_id or "").split(":")
    if len(parts) != 3:
        return None
    try:
        user_id, version_number = int(parts[0]), int(parts[1])
    except (TypeError, ValueError):
        return None
    user = services.session_user(user_id, parts[2])
    if user is None or not user.active or version_number != (user.session_version or 0):
        return None
    return user


def sign_in(user: User) -> None:
    """Start a sign-in session on the server and put its id in the cookie."""
    from flask import session

    from app.auth.oidc import SIGNED_IN_VIA

    session.pop(SIGNED_IN_VIA, None)  # a school-account sign-in sets it again afterwards
    services.start_session(user)
    login_user(user)


def sign_out() -> None:
    """End this sign-in session on the server (a copied cookie stops working) and in the cookie."""
    if current_user.is_authenticated:
        services.end_session(current_user._get_current_object())  # committed with the answer (unit of work)
    logout_user()


@bp.route("/inloggen", methods=["GET", "POST"])
def login():
    """Sign in with a password: 401 or 429 on the form's fields (``authenticate`` commits the
    counted failure itself, since a refused sign-in's answer commits nothing)."""
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.errors else 200
    try:
        user = authenticate(form.email.data, form.password.data, request.remote_addr)
    except ThrottledError as exc:
        form.email.errors.append(exc.message)
        return render_template("auth/login.html", form=form), 429
    except AuthError as exc:
        form.password.errors.append(exc.message)
        return render_template("auth/login.html", form=form), 401
    sign_in(user)
    flash(_("U bent ingelogd."), "success")
    return redirect(safe_next(request.args.get("next"), landing_page(user)))


def landing_page(user) -> str:
    """Where a signed-in user starts: coordinators at their desk, everyone else at the start page."""
    from app.auth import permissions

    if permissions.is_coordinator(user):
        return url_for("desk.bookings")
    return url_for("main.index")


@bp.post("/uitloggen")
@login_required
def logout():
    """Sign out here; after a school-account sign-in, offer the provider's sign-out too (a shared
    computer stays signed in at the provider otherwise)."""
    from flask import current_app, session

    from app.auth import oidc

    via = session.pop(oidc.SIGNED_IN_VIA, None)
    sign_out()
    home = url_for("main.index")
    at_provider = via and oidc.logout_url(via, current_app.config["BASE_URL"].rstrip("/") + home)
    if at_provider:  # a link, not a redirect: the form's CSP (form-action 'self') keeps the POST here
        return render_template("auth/signed_out.html", provider=oidc.get_provider(via), url=at_provider)
    flash(_("U bent uitgelogd."), "info")
    return redirect(home)


def mailed_link_form(send, sent_message: str, template: str):
    """The form that mails a link (password reset, sign-in link): the same answer whether or not
    the address has an account, 429 on the field when the client asked too often. The request's
    unit of work commits the counted attempt and the queued mail."""
    form = ForgotPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            send(form.email.data, request.remote_addr)
        except ThrottledError as exc:
            form.email.errors.append(exc.message)
            status = 429
        else:
            flash(sent_message, "info")
            return redirect(url_for("auth.login"))
    elif form.errors:
        status = 422
    return render_template(template, form=form), status


@bp.route("/wachtwoord-vergeten", methods=["GET", "POST"])
def forgot_password():
    return mailed_link_form(
        request_password_reset,
        _(
            "Als dit e-mailadres bij ons bekend is, krijgt u binnen enkele minuten een e-mail "
            "met een link om een nieuw wachtwoord in te stellen."
        ),
        "auth/forgot_password.html",
    )


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if reset_token_user(token) is None:
        return render_template("auth/reset_invalid.html"), 404
    form = ResetPasswordForm()
    done = handle_form(form, lambda: services.reset_password(token, form.password.data), field="password")
    if done:
        if current_user.is_authenticated:
            logout_user()
        flash(_("Uw nieuwe wachtwoord is ingesteld. U kunt nu inloggen."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), done.status


@bp.route("/uitnodiging/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """An invited person chooses a password with the link from the invitation, and is signed in."""
    if reset_token_user(token) is None:
        return render_template("auth/reset_invalid.html"), 404
    form = ResetPasswordForm()
    done = handle_form(
        form,
        lambda: _accept(token, form.password.data),
        _("Welkom! Uw wachtwoord is ingesteld en u bent ingelogd."),
        field="password",
    )
    if done:
        return redirect(url_for("main.index"))
    return render_template("auth/accept_invitation.html", form=form, user=reset_token_user(token)), done.status


def _accept(token: str, password: str) -> User:
    user = services.reset_password(token, password)
    if current_user.is_authenticated:
        logout_user()
    sign_in(user)
    user.last_login_at = user.last_seen_at = services.utcnow()
    return user


# sign-in by e-mail link: its routes belong to this blueprint
from app.auth import email_link_views  # noqa: E402,F401
