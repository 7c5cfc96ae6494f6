"""Sign in with a school account (OpenID Connect): start, the provider's answer, the choice of location.

Thin handlers: the protocol and the rules are in ``app.auth.oidc``. The sign-in itself is
the same as after a password (``auth.views.sign_in``: a server-side sign-in session).
"""

from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from app.auth import oidc
from app.auth.oidc import OidcError, Person, TokenError
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db
from app.web import safe_next

bp = Blueprint("oidc", __name__, template_folder="templates", url_prefix="/inloggen/via")

PENDING_KEY = "oidc_pending"
NEXT_KEY = "oidc_next"
PENDING_SECONDS = 15 * 60


@bp.record_once
def _init(state):
    oidc.init_app(state.app)


@bp.app_context_processor
def _providers():
    return {"oidc_providers": oidc.providers, "sign_in_methods": oidc.sign_in_methods}


def _provider_or_404(name: str) -> oidc.Provider:
    provider = oidc.get_provider(name)
    if provider is None:
        abort(404)
    return provider


def _refused(provider: oidc.Provider, exc: DomainError):
    db.session.rollback()
    return render_template("auth/oidc_refused.html", provider=provider, message=exc.message), exc.status


@bp.get("/<name>")
def start(name: str):
    """Send the browser to the provider (state, nonce and the PKCE verifier stay in our session)."""
    from flask import current_app

    provider = _provider_or_404(name)
    session[NEXT_KEY] = safe_next(request.args.get("next"), url_for("main.index"))
    redirect_uri = current_app.config["BASE_URL"].rstrip("/") + url_for("oidc.callback", name=provider.name)
    try:
        return oidc.client(provider.name).authorize_redirect(redirect_uri)
    except Exception as exc:  # (the provider's discovery document could not be read)
        oidc.audit.warning("oidc %s: discovery failed (%s)", provider.name, exc.__class__.__name__)
        return _refused(
            provider,
            OidcError(_("%(provider)s is nu niet bereikbaar. Probeer het later opnieuw.", provider=provider.label)),
        )


@bp.get("/<name>/terug")
def callback(name: str):
    """The provider's answer: check it, find or make the account, sign in."""
    provider = _provider_or_404(name)
    try:
        token, nonce = _exchange_code(provider)
        claims = oidc.verify_id_token(provider, token, nonce)
        db.session.commit()  # the nonce is spent, whatever follows (handlers.py ALLOWED_COMMITS)
        person = oidc.person_from_claims(provider, oidc.merge_userinfo(provider, token, claims))
        outcome = oidc.link_account(provider, person)
    except DomainError as exc:  # OidcError, or an account the provider's data cannot make
        return _refused(provider, exc)
    if outcome.user is None:
        session[PENDING_KEY] = {
            "provider": provider.name,
            "person": person.__dict__ | {"affiliations": list(person.affiliations)},
            "schools": [s.id for s in outcome.choices],
            "exp": time.time() + PENDING_SECONDS,
        }
        return redirect(url_for("oidc.choose_school", name=provider.name))
    return _sign_in(provider, outcome.user)


def _exchange_code(provider: oidc.Provider) -> tuple[dict, str]:
    """The provider's answer exchanged for its tokens (and the nonce we sent), or a TokenError."""
    import requests
    from authlib.integrations.base_client import OAuthError

    c = oidc.client(provider.name)
    if request.args.get("error"):
        oidc.audit.info("oidc %s: the provider answered %s", provider.name, request.args.get("error")[:100])
        raise TokenError(_("Het inloggen via %(provider)s is afgebroken of geweigerd.", provider=provider.label))
    state = request.args.get("state") or ""
    data = c.framework.get_state_data(session, state) if state else None
    if state:
        c.framework.clear_state_data(session, state)
    if not data or not request.args.get("code"):
        raise TokenError(_("Deze inlogpoging is verlopen of al gebruikt. Begin opnieuw bij Inloggen."))
    try:
        token = c.fetch_access_token(
            code=request.args["code"], redirect_uri=data.get("redirect_uri"), code_verifier=data.get("code_verifier")
        )
    except (OAuthError, requests.RequestException, ValueError) as exc:
        oidc.audit.warning("oidc %s: code exchange failed (%s)", provider.name, exc.__class__.__name__)
        raise TokenError(
            _("Het inloggen via %(provider)s is niet gelukt. Probeer het opnieuw.", provider=provider.label)
        ) from None
    return token, data.get("nonce") or ""


class ChooseSchoolForm(FlaskForm):
    school = RadioField(_l("Uw school"), coerce=int, validators=[InputRequired(message=_l("Kies uw school."))])


@bp.route("/<name>/school-kiezen", methods=["GET", "POST"])
def choose_school(name: str):
    """An institution with several locations: the teacher picks theirs, once."""
    provider = _provider_or_404(name)
    pending, schools = _pending(provider)
    if pending is None:
        return _refused(
            provider, TokenError(_("Deze inlogpoging is verlopen of al gebruikt. Begin opnieuw bij Inloggen."))
        )
    form = ChooseSchoolForm()
    form.school.choices = [
        (s.id, f"{s.name}, {s.street} {s.house_number}, {s.city} ({s.location_code})") for s in schools
    ]
    if form.validate_on_submit():
        return _link_teacher(provider, pending, next(s for s in schools if s.id == form.school.data))
    return render_template(
        "auth/oidc_choose_school.html", form=form, provider=provider, institution=pending["person"]["institution"]
    ), 422 if form.errors else 200


def _pending(provider: oidc.Provider):
    """The sign-in waiting for a choice of school (and its schools), or (None, []) when it expired."""
    from app.schools.models import School

    pending = session.get(PENDING_KEY)
    if not pending or pending.get("provider") != provider.name or pending.get("exp", 0) < time.time():
        session.pop(PENDING_KEY, None)
        return None, []
    return pending, [s for s in (db.session.get(School, i) for i in pending["schools"]) if s is not None]


def _link_teacher(provider: oidc.Provider, pending: dict, school):
    person = Person(**(pending["person"] | {"affiliations": tuple(pending["person"]["affiliations"])}))
    session.pop(PENDING_KEY, None)
    try:
        user = oidc.create_linked_teacher(provider, person, school)
    except Exception as exc:  # (a DomainError, or the link made meanwhile)
        message = exc.message if isinstance(exc, DomainError) else _("Dit account is al gekoppeld. Log opnieuw in.")
        return _refused(provider, OidcError(message))
    return _sign_in(provider, user)


def _sign_in(provider: oidc.Provider, user):
    from flask_login import logout_user

    from app.auth.views import sign_in

    if current_user.is_authenticated:
        logout_user()
    sign_in(user)
    session[oidc.SIGNED_IN_VIA] = provider.name  # signing out here offers the provider's sign-out too
    user.last_login_at = user.last_seen_at = utcnow()
    oidc.audit.info("login ok through %s (account %s, ip %s)", provider.name, user.id, request.remote_addr)
    flash(_("U bent ingelogd via %(provider)s.", provider=provider.label), "success")
    return redirect(safe_next(session.pop(NEXT_KEY, None), url_for("main.index")))
