"""Sign-in through OpenID Connect providers (Entree Federatie, Microsoft Entra ID, Google).

The providers are configured per deployment (``OIDC_PROVIDERS``: JSON, see the README).
The protocol is Authlib's certified client: the authorization code flow with PKCE (S256),
a random ``state`` and ``nonce`` per sign-in kept in the signed session cookie, the code
exchanged at the provider's token endpoint, and the ID token's signature checked against
the provider's published keys (JWKS), its issuer, audience, expiry and nonce with a
bounded clock skew (``OIDC_LEEWAY_SECONDS``, at most two minutes). ``verify_id_token`` is
the one function that does this; the callback and the tests use it. An accepted nonce is
kept (hashed) so the same ID token is refused a second time.

Linking a person to an account (``link_account``): a known (provider, subject) signs in
its account; else an account with the same *verified* e-mail address is linked; else a
new teacher account is made for the school the institution claim names (BRIN: 4
characters, the institution; 6 characters: one location). Only staff affiliations may
book: a pupil's account is refused. A school outside every region is told so.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role, User
from app.auth.oidc_models import OidcIdentity, OidcNonce
from app.auth.tokens import hash_token
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db

audit = logging.getLogger("app.audit")

MAX_LEEWAY_SECONDS = 120  # clock skew accepted between the provider and us, at most
NONCE_KEEP_SECONDS = 24 * 3600  # an ID token older than this is expired anyway
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# a BRIN number (4: the institution) or a DUO location code (6: BRIN and a location number)
INSTITUTION_RE = re.compile(r"^[0-9A-Z]{4}([0-9]{2})?$")
STAFF_AFFILIATIONS = ("employee", "staff", "faculty")

PRESETS: dict[str, dict[str, Any]] = {
    # the Entree Federatie (Kennisnet): the school's own account, the institution and role as attributes
    "entree": {
        "label": "Entree (Kennisnet)",
        "scopes": "openid profile email",
        "institution_claim": "nlEduPersonHomeOrganizationId",
        "affiliation_claim": "eduPersonAffiliation",
    },
    # Microsoft Entra ID (Microsoft 365 of a school or board): the tenant names the institution
    # (institution_map: tenant id -> BRIN); app roles with the values employee/staff in "roles"
    "microsoft": {
        "label": "Microsoft",
        "scopes": "openid profile email",
        "institution_claim": "tid",
        "affiliation_claim": "roles",
    },
    # Google Workspace: the hosted domain names the institution (institution_map: domain -> BRIN);
    # Google tells no role, so only with trust_without_affiliation (a domain of staff only)
    "google": {
        "label": "Google",
        "issuer": "https://accounts.google.com",
        "scopes": "openid email profile",
        "institution_claim": "hd",
        "affiliation_claim": None,
    },
}


class ConfigError(RuntimeError):
    pass


class OidcError(DomainError):
    """Sign-in through a provider refused; ``message`` says why, in Dutch, to the person."""

    status = 403
    code = "oidc_refused"


class TokenError(OidcError):
    """The provider's answer or its ID token did not check out (signature, audience, nonce, time)."""

    status = 401
    code = "invalid_id_token"


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid profile email"
    institution_claim: str | None = "nlEduPersonHomeOrganizationId"
    affiliation_claim: str | None = "eduPersonAffiliation"
    staff_affiliations: tuple[str, ...] = STAFF_AFFILIATIONS
    institution_map: dict = field(default_factory=dict, hash=False, compare=False)
    trust_without_affiliation: bool = False
    metadata_url: str = ""

    @property
    def discovery_url(self) -> str:
        return self.metadata_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def parse_providers(raw: Any) -> list[Provider]:
    """The providers of the deployment from ``OIDC_PROVIDERS`` (a JSON list, or the list itself).

    Each: ``name`` (letters, digits, dashes: in URLs and the links table), ``preset``
    (entree, microsoft, google), ``label`` (on the sign-in page), ``issuer``, ``client_id``,
    ``client_secret`` or ``client_secret_env`` (the name of an environment variable),
    ``scopes``, ``institution_claim``, ``affiliation_claim``, ``staff_affiliations``,
    ``institution_map`` and ``trust_without_affiliation``."""
    import os

    if not raw:
        return []
    items = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise ConfigError("OIDC_PROVIDERS must be a JSON list of providers.")
    providers, names = [], set()
    for item in items:
        if not isinstance(item, dict):
            raise ConfigError("Every entry of OIDC_PROVIDERS is an object.")
        spec = dict(PRESETS.get(item.get("preset") or "", {}))
        if item.get("preset") and item["preset"] not in PRESETS:
            raise ConfigError(f"Unknown OIDC preset {item['preset']!r} (choose from {', '.join(PRESETS)}).")
        spec.update({k: v for k, v in item.items() if k not in ("preset", "client_secret_env")})
        if item.get("client_secret_env"):
            spec["client_secret"] = os.environ.get(item["client_secret_env"], "")
        name = str(spec.get("name", ""))
        if not NAME_RE.match(name) or name in names:
            raise ConfigError(f"OIDC provider name {name!r} is missing, not unique, or not [a-z0-9-].")
        names.add(name)
        for key in ("issuer", "client_id", "client_secret"):
            if not spec.get(key):
                raise ConfigError(f"OIDC provider {name!r} needs {key}.")
        if "openid" not in str(spec.get("scopes", "openid")).split():
            raise ConfigError(f"OIDC provider {name!r}: scopes must include openid.")
        providers.append(
            Provider(
                name=name,
                label=str(spec.get("label") or name),
                issuer=str(spec["issuer"]),
                client_id=str(spec["client_id"]),
                client_secret=str(spec["client_secret"]),
                scopes=str(spec.get("scopes") or "openid profile email"),
                institution_claim=spec.get("institution_claim", "nlEduPersonHomeOrganizationId"),
                affiliation_claim=spec.get("affiliation_claim", "eduPersonAffiliation"),
                staff_affiliations=tuple(str(v).lower() for v in spec.get("staff_affiliations") or STAFF_AFFILIATIONS),
                institution_map={str(k): str(v) for k, v in (spec.get("institution_map") or {}).items()},
                trust_without_affiliation=bool(spec.get("trust_without_affiliation", False)),
                metadata_url=str(spec.get("metadata_url") or ""),
            )
        )
    return providers


def init_app(app: Flask) -> None:
    """Read the providers and register them with Authlib's Flask client (PKCE S256)."""
    from authlib.integrations.flask_client import OAuth

    raw = app.config.get("OIDC_PROVIDERS")
    path = app.config.get("OIDC_PROVIDERS_FILE")
    if not raw and path:
        with open(path, encoding="utf-8") as fh:
            raw = fh.read()
    providers = parse_providers(raw)
    leeway = int(app.config.get("OIDC_LEEWAY_SECONDS", 60))
    if not 0 <= leeway <= MAX_LEEWAY_SECONDS:
        raise ConfigError(f"OIDC_LEEWAY_SECONDS is between 0 and {MAX_LEEWAY_SECONDS}.")
    oauth = OAuth(app)
    timeout = float(app.config.get("OIDC_HTTP_TIMEOUT", 10))
    for p in providers:
        oauth.register(
            p.name,
            client_id=p.client_id,
            client_secret=p.client_secret,
            server_metadata_url=p.discovery_url,
            client_kwargs={"scope": p.scopes, "code_challenge_method": "S256", "default_timeout": timeout},
        )
    app.extensions["oidc"] = {"oauth": oauth, "providers": {p.name: p for p in providers}}


def providers() -> list[Provider]:
    state = current_app.extensions.get("oidc")
    return list(state["providers"].values()) if state else []


def get_provider(name: str) -> Provider | None:
    state = current_app.extensions.get("oidc")
    return state["providers"].get(name) if state else None


def client(name: str):
    """Authlib's client of a provider (it fetches and caches the discovery document and the keys)."""
    return current_app.extensions["oidc"]["oauth"].create_client(name)


# ------------------------------------------------------------------ signing out at the provider

SIGNED_IN_VIA = "oidc_signed_in_via"  # the sign-in session's key: the provider this sign-in came through


def logout_url(name: str, return_to: str) -> str | None:
    """Where to send the browser to sign out at the provider too (OpenID Connect RP-Initiated
    Logout: the provider's ``end_session_endpoint`` with our client_id and the page to return
    to), or None when the provider has no such endpoint (Google) or cannot be reached now.
    No ID token is kept for a hint: the client_id names us, and the provider asks the person."""
    from urllib.parse import urlencode

    provider = get_provider(name)
    if provider is None:
        return None
    try:
        endpoint = client(provider.name).load_server_metadata().get("end_session_endpoint")
    except Exception as exc:  # (the discovery document could not be read: sign out here only)
        audit.warning("oidc %s: no sign-out at the provider (%s)", provider.name, exc.__class__.__name__)
        return None
    if not endpoint:
        return None
    query = urlencode({"client_id": provider.client_id, "post_logout_redirect_uri": return_to, "ui_locales": "nl"})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


# ------------------------------------------------------------------ the ID token


def _expected_issuer(metadata_issuer: str, claims: dict) -> str:
    # Microsoft's multi-tenant discovery names the issuer with a {tenantid} placeholder
    if "{tenantid}" in metadata_issuer:
        return metadata_issuer.replace("{tenantid}", str(claims.get("tid", "")))
    return metadata_issuer


def verify_id_token(provider: Provider, token: dict, nonce: str, now: datetime | None = None) -> dict:
    """Check the ID token of a token response and return its claims; raise TokenError.

    Authlib checks the signature against the provider's JWKS (fetched again once for an
    unknown key id), the audience (our client id; ``azp`` when there are several), the
    expiry and issue time with at most ``OIDC_LEEWAY_SECONDS`` of skew, the nonce of this
    sign-in, and ``at_hash`` against the access token. Then the issuer is compared with the
    one in the provider's discovery document, and the nonce is spent: the same token
    (or any token with that nonce) is refused from then on."""
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    from flask_babel import gettext as _

    refused = _(
        "Het inloggen via %(provider)s is niet gelukt: het antwoord van %(provider)s klopt niet. Probeer het opnieuw.",
        provider=provider.label,
    )
    if not isinstance(token, dict) or not token.get("id_token") or not nonce:
        raise TokenError(refused, reason="no_id_token")
    c = client(provider.name)
    leeway = min(int(current_app.config.get("OIDC_LEEWAY_SECONDS", 60)), MAX_LEEWAY_SECONDS)
    try:
        metadata = c.load_server_metadata()
        issuer = metadata.get("issuer") or provider.issuer
        options = {
            "iss": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "sub": {"essential": True},
            "aud": {"essential": True},
        }
        if "{tenantid}" not in issuer:
            options["iss"]["values"] = [issuer]
        claims = dict(c.parse_id_token(token, nonce=nonce, claims_options=options, leeway=leeway))
    except (JoseError, AuthlibBaseError, ValueError, KeyError) as exc:
        audit.warning("oidc %s: ID token refused (%s: %s)", provider.name, exc.__class__.__name__, exc)
        raise TokenError(refused, reason=exc.__class__.__name__) from exc
    if claims.get("iss") != _expected_issuer(issuer, claims):
        audit.warning("oidc %s: ID token refused (issuer %r)", provider.name, claims.get("iss"))
        raise TokenError(refused, reason="issuer")
    if claims.get("nonce") != nonce:  # checked by Authlib too; a token without one is no answer to us
        raise TokenError(refused, reason="nonce")
    if not isinstance(claims.get("sub"), str) or not 0 < len(claims["sub"]) <= 255:
        raise TokenError(refused, reason="sub")
    _spend_nonce(provider, nonce, now or utcnow())
    return claims


def _spend_nonce(provider: Provider, nonce: str, now: datetime) -> None:
    from flask_babel import gettext as _

    digest = hash_token(f"{provider.name}\n{nonce}")
    replay = TokenError(_("Deze inlogpoging is al gebruikt. Begin opnieuw bij Inloggen."), reason="replayed_nonce")
    if db.session.scalar(select(OidcNonce.id).where(OidcNonce.nonce_hash == digest)) is not None:
        audit.warning("oidc %s: replayed nonce refused", provider.name)
        raise replay
    try:
        with db.session.begin_nested():
            db.session.add(
                OidcNonce(nonce_hash=digest, used_at=now, expires_at=now + timedelta(seconds=NONCE_KEEP_SECONDS))
            )
    except IntegrityError as exc:  # the same nonce in a parallel request
        audit.warning("oidc %s: replayed nonce refused", provider.name)
        raise replay from exc


def merge_userinfo(provider: Provider, token: dict, claims: dict) -> dict:
    """Claims the ID token lacks (institution, affiliation, e-mail) from the userinfo endpoint,
    when the provider has one; only when it speaks of the same subject."""
    wanted = [c for c in (provider.institution_claim, provider.affiliation_claim, "email") if c]
    if all(c in claims for c in wanted):
        return claims
    c = client(provider.name)
    if not c.load_server_metadata().get("userinfo_endpoint"):
        return claims
    try:
        info = dict(c.userinfo(token=token))
    except Exception as exc:  # (a provider that fails here: go on with the ID token)
        audit.warning("oidc %s: userinfo not read (%s)", provider.name, exc.__class__.__name__)
        return claims
    if info.get("sub") != claims.get("sub"):
        return claims
    merged = dict(info)
    merged.update(claims)  # what the signed ID token says wins
    return merged


# ------------------------------------------------------------------ who the person is


@dataclass(frozen=True)
class Person:
    """What we use of the claims: nothing else is kept."""

    provider: str
    subject: str
    email: str
    email_verified: bool
    name: str
    institution: str  # "" when none came
    affiliations: tuple[str, ...]


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v for v in re.split(r"[\s,]+", str(value)) if v]


def person_from_claims(provider: Provider, claims: dict) -> Person:
    from app.auth.services import normalise_email

    institution = ""
    if provider.institution_claim:
        for value in _values(claims.get(provider.institution_claim)):
            value = provider.institution_map.get(value, value).strip().upper()
            if INSTITUTION_RE.match(value):
                institution = value
                break
    affiliations = (
        tuple(v.split("@", 1)[0].lower() for v in _values(claims.get(provider.affiliation_claim)))
        if provider.affiliation_claim
        else ()
    )
    email = claims.get("email") or ""
    verified = claims.get("email_verified")
    return Person(
        provider=provider.name,
        subject=str(claims["sub"]),
        email=normalise_email(email) if email else "",
        email_verified=verified is True or (isinstance(verified, str) and verified.lower() == "true"),
        name=" ".join(str(claims.get("name") or "").split())[:200],
        institution=institution,
        affiliations=affiliations,
    )


def is_staff(provider: Provider, person: Person) -> bool:
    if not provider.affiliation_claim:
        return provider.trust_without_affiliation
    return any(a in provider.staff_affiliations for a in person.affiliations)


def candidate_schools(institution: str) -> list:
    """The active schools a BRIN (every location) or a location code (that one) names."""
    from app.schools.models import School

    if not institution:
        return []
    column = School.location_code if len(institution) == 6 else School.brin
    return list(
        db.session.scalars(
            select(School).where(column == institution, School.active.is_(True)).order_by(School.location_code)
        )
    )


@dataclass
class Outcome:
    """The account to sign in, or the schools to choose from (several locations)."""

    user: User | None = None
    choices: list = field(default_factory=list)


def link_account(provider: Provider, person: Person, now: datetime | None = None) -> Outcome:
    """Find or make the account of a person who signed in at a provider (see the module doc)."""
    from flask_babel import gettext as _

    now = now or utcnow()
    identity = db.session.scalar(
        select(OidcIdentity).where(OidcIdentity.provider == provider.name, OidcIdentity.subject == person.subject)
    )
    if identity is not None:
        user = identity.user
        _check_may_sign_in(provider, person, user)
        identity.last_login_at = now
        return Outcome(user=user)
    if not is_staff(provider, person):
        raise _not_staff(provider, person)
    if person.email:
        existing = db.session.scalar(select(User).where(User.email == person.email))
        if existing is not None:
            if not person.email_verified:
                audit.info(
                    "oidc %s: e-mail of account %s not verified by the provider: not linked", provider.name, existing.id
                )
                raise OidcError(
                    _(
                        "Er bestaat al een account met het e-mailadres %(email)s, maar %(provider)s "
                        "bevestigt niet dat dit adres van u is. Log in met uw wachtwoord, of vraag de "
                        "programmaleider van uw regio om hulp.",
                        email=person.email,
                        provider=provider.label,
                    ),
                    reason="email_not_verified",
                )
            if existing.role == Role.ADMIN:
                raise OidcError(_("Beheerders loggen in met hun wachtwoord."), reason="admin")
            _check_may_sign_in(provider, person, existing)
            _link(provider, person, existing, now)
            audit.info("oidc %s: account %s linked by its verified e-mail address", provider.name, existing.id)
            return Outcome(user=existing)
    if not person.email:
        raise OidcError(
            _(
                "%(provider)s gaf ons geen e-mailadres. Dat hebben we nodig voor bevestigingen van uw "
                "boekingen. Vraag de beheerder van uw schoolaccount om het e-mailadres door te geven.",
                provider=provider.label,
            ),
            reason="no_email",
        )
    schools = candidate_schools(person.institution)
    if not schools:
        raise OidcError(
            _(
                "Uw school (%(code)s) is niet bekend bij dit platform. Vraag de programmaleider van "
                "uw regio om uw school toe te voegen.",
                code=person.institution or "?",
            ),
            reason="unknown_school",
        )
    in_region = [s for s in schools if s.region_id is not None]
    if not in_region:
        raise OidcError(
            _(
                "Uw school %(school)s hoort (nog) niet bij een regio van dit platform. Boeken kan "
                "alleen voor scholen in een regio; neem contact op met het techniekonderwijsnetwerk "
                "bij u in de buurt.",
                school=schools[0].name,
            ),
            reason="no_region",
        )
    if len(in_region) > 1:
        return Outcome(choices=in_region)
    return Outcome(user=create_linked_teacher(provider, person, in_region[0], now))


def create_linked_teacher(provider: Provider, person: Person, school, now: datetime | None = None) -> User:
    """A new teacher account for the school, linked to the person at the provider."""
    from flask_babel import gettext as _

    from app.auth.services import create_user

    now = now or utcnow()
    if school.region is None or person.institution not in (school.brin, school.location_code):
        raise OidcError(_("Kies een van de genoemde scholen."), reason="bad_choice")
    user = create_user(
        email=person.email, password=None, role=Role.TEACHER, region=school.region, school=school, name=person.name
    )
    _link(provider, person, user, now)
    audit.info("oidc %s: teacher account %s made for school %s", provider.name, user.id, school.location_code)
    return user


def _link(provider: Provider, person: Person, user: User, now: datetime) -> None:
    db.session.add(
        OidcIdentity(
            user_id=user.id,
            provider=provider.name,
            subject=person.subject,
            institution=person.institution,
            created_at=now,
            last_login_at=now,
        )
    )
    db.session.flush()


def _not_staff(provider: Provider, person: Person) -> OidcError:
    from flask_babel import gettext as _

    if "student" in person.affiliations or "pupil" in person.affiliations:
        audit.info("oidc %s: a pupil's account refused", provider.name)
        return OidcError(
            _(
                "Dit is een leerlingaccount. Alleen leerkrachten en andere medewerkers van een school "
                "kunnen hier boeken. Vraag je juf of meester."
            ),
            reason="pupil",
        )
    return OidcError(
        _(
            "Uw account bij %(provider)s is geen account van een medewerker van de school. Alleen "
            "leerkrachten en andere medewerkers kunnen hier boeken.",
            provider=provider.label,
        ),
        reason="not_staff",
    )


def _check_may_sign_in(provider: Provider, person: Person, user: User) -> None:
    """A linked account: still active, and for a school's account still a staff member."""
    from flask_babel import gettext as _

    if not user.active:
        raise OidcError(
            _("Dit account is gedeactiveerd. Neem contact op met de programmaleider van uw regio."), reason="inactive"
        )
    if user.school_id is not None and not is_staff(provider, person):
        raise _not_staff(provider, person)


def sign_in_methods(user: User) -> list[str]:
    """How an account signs in, for administrators: the password, each linked provider and
    the e-mail link (active teachers and school coordinators, app.auth.email_link)."""
    from flask_babel import gettext as _

    from app.auth.email_link import LINK_ROLES

    labels = {p.name: p.label for p in providers()}
    methods = [_("wachtwoord")] if user.password_hash else []
    methods += [labels.get(i.provider, i.provider) for i in user.oidc_identities]
    if user.active and user.role in LINK_ROLES and user.email:
        methods.append(_("e-maillink"))
    return methods


def purge_nonces(now: datetime) -> int:
    """Remove spent nonces past their time (the retention job)."""
    from sqlalchemy import delete

    return db.session.execute(delete(OidcNonce).where(OidcNonce.expires_at < now)).rowcount
