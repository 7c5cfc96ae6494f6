"""Accounts: creating users, checking passwords, throttling and locking sign-ins, password resets.

Security events (lockouts, refused sign-ins, resets, password changes) go to the
``app.audit`` logger with the account id and client address, never the password.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import ApiToken, LoginAttempt, LoginSession, PasswordResetToken, Region, Role, TokenPurpose, User
from app.auth.tokens import hash_token
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db

audit = logging.getLogger("app.audit")

PASSWORD_METHOD = "scrypt"  # memory-hard; werkzeug's default, named here on purpose
MIN_PASSWORD_LENGTH = 12  # OWASP ASVS 2.1.1
MAX_PASSWORD_LENGTH = 200
# hashes to check against when the account does not exist, so timing tells nothing (one per method)
_DUMMY_HASHES: dict[str, str] = {PASSWORD_METHOD: generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)}


class AuthError(DomainError):
    code = "invalid_credentials"
    status = 401


class ThrottledError(DomainError):
    code = "too_many_attempts"
    status = 429


class PasswordSignInOffError(AuthError):
    """The account's region signs its teachers in through a school account only."""

    code = "password_sign_in_off"
    status = 403


def password_sign_in_off(user: User) -> bool:
    """A school's account in a region that turned password sign-in off (administrators and
    the region's staff without a school keep their password)."""
    return (
        user.role != Role.ADMIN
        and user.school_id is not None
        and user.region is not None
        and bool(user.region.password_login_off)
    )


def password_method() -> str:
    """The hash method for new passwords: always PASSWORD_METHOD (scrypt), but for an app in
    TESTING mode that names a cheaper one in PASSWORD_HASH_METHOD (the test suite: its
    thousands of accounts and sign-ins would spend ~0.1 s of scrypt each). A production app
    (TESTING off) ignores that key."""
    from flask import has_app_context

    if has_app_context() and current_app.testing:
        return current_app.config.get("PASSWORD_HASH_METHOD") or PASSWORD_METHOD
    return PASSWORD_METHOD


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=password_method())


def _dummy_hash() -> str:
    """A hash of a password nobody has, made with the method real accounts' hashes use."""
    method = password_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method=method)
    return _DUMMY_HASHES[method]


def validate_password(password: str, email: str | None = None) -> None:
    """The password policy: at least 12 characters, at most 200, not the e-mail address."""
    from flask_babel import gettext as _

    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _("Een wachtwoord heeft minstens %(n)s tekens.", n=MIN_PASSWORD_LENGTH),
            code="weak_password",
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(
            _("Een wachtwoord heeft hoogstens %(n)s tekens.", n=MAX_PASSWORD_LENGTH),
            code="weak_password",
            field="password",
        )
    email = normalise_email(email or "")
    if email and password.strip().lower() in {email, email.split("@")[0]}:
        raise DomainError(
            _("Kies een wachtwoord dat niet gelijk is aan uw e-mailadres."), code="weak_password", field="password"
        )


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(
    *,
    email: str,
    role: Role,
    password: str | None,
    region: Region | None = None,
    school=None,
    venues=(),
    name: str = "",
    locale: str = "nl",
) -> User:
    from flask_babel import gettext as _

    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise DomainError(_("Geen geldig e-mailadres."), code="invalid_email", field="email")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DomainError(_("Er bestaat al een account met dit e-mailadres."), code="email_taken", field="email")
    if role != Role.ADMIN and region is None:
        region = school.region if school is not None else None
        if region is None:
            raise DomainError(_("Kies een regio."), code="region_required", field="region")
    if role in (Role.TEACHER, Role.SCHOOL_COORDINATOR) and school is None:
        raise DomainError(_("Een leerkracht hoort bij een school."), code="school_required", field="school")
    if school is not None and region is not None and school.region_id not in (None, region.id):
        raise DomainError(_("De school hoort niet bij deze regio."), code="school_region", field="school")
    if password is not None:
        validate_password(password, email)
    user = User(
        email=email,
        role=role,
        region=region if role != Role.ADMIN else region,
        school=school,
        name=name,
        locale=locale,
        password_hash=hash_password(password) if password else None,
        calendar_token=secrets.token_urlsafe(24),
    )
    user.venues = list(venues)
    db.session.add(user)
    db.session.flush()
    return user


def _recent_failures(key: str, since) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.key == key, LoginAttempt.at >= since)
        )
        or 0
    )


def _throttled_message() -> str:
    from flask_babel import gettext as _

    minutes = max(1, round(current_app.config["LOGIN_LOCKOUT_SECONDS"] / 60))
    return _("Te veel mislukte pogingen. Probeer het over %(n)s minuten opnieuw.", n=minutes)


def check_password(password_hash: str, password: str) -> bool:
    """The one place a password is checked (tests count the checks here)."""
    return check_password_hash(password_hash, password)


def authenticate(email: str, password: str, remote_addr: str | None) -> User:
    """Check a sign-in; raise ThrottledError or AuthError. Commits the attempt record.

    An account is locked for LOGIN_LOCKOUT_SECONDS after LOGIN_MAX_FAILURES failures
    within LOGIN_WINDOW_SECONDS; a client address is refused after
    LOGIN_MAX_FAILURES_PER_IP failures. Failures are counted per e-mail address too,
    so an unknown address answers exactly like a known one.

    The account's row is locked (SELECT … FOR UPDATE) from the lockout check to the commit
    of the outcome, so parallel attempts on one account are checked one after the other:
    N parallel wrong passwords make at most LOGIN_MAX_FAILURES password checks, every
    attempt is counted (``failed_logins``, also those refused while locked), and the right
    password cannot slip in once the account is locked. (SQLite takes the write lock at the
    start of every transaction, which serialises the same way.)
    """
    from flask_babel import gettext as _

    cfg = current_app.config
    email = normalise_email(email)
    now = utcnow()
    since = now - timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    account_key, ip_key = f"email:{email}", f"ip:{remote_addr or '-'}"
    stmt = select(User).where(User.email == email)
    if cfg.get("LOGIN_LOCKING", True):  # off only in the control test, to show the race
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    user = db.session.scalar(stmt)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.warning(
            "login refused: account %s locked until %s (ip %s)", user.id, user.locked_until.isoformat(), remote_addr
        )
        user.failed_logins += 1
        db.session.commit()
        raise ThrottledError(_throttled_message())
    if (
        _recent_failures(account_key, since) >= cfg["LOGIN_MAX_FAILURES"]
        or _recent_failures(ip_key, since) >= cfg["LOGIN_MAX_FAILURES_PER_IP"]
    ):
        audit.warning("login refused: too many failures (account %s, ip %s)", user.id if user else "-", remote_addr)
        if user is not None:
            user.failed_logins += 1
            db.session.commit()
        raise ThrottledError(_throttled_message())
    ok = check_password(user.password_hash if user and user.password_hash else _dummy_hash(), password or "")
    if not ok or user is None or not user.active or not user.password_hash:
        failures = _recent_failures(account_key, since) + 1  # counting this one
        db.session.add_all([LoginAttempt(key=account_key, at=now), LoginAttempt(key=ip_key, at=now)])
        if user is not None:
            user.failed_logins += 1
            if failures >= cfg["LOGIN_MAX_FAILURES"]:
                user.locked_until = now + timedelta(seconds=cfg["LOGIN_LOCKOUT_SECONDS"])
                audit.warning(
                    "account %s locked after %s failed sign-ins (ip %s)", user.id, user.failed_logins, remote_addr
                )
        audit.info("login failed (account %s, ip %s)", user.id if user else "-", remote_addr)
        db.session.commit()
        raise AuthError(_("Onbekend e-mailadres of onjuist wachtwoord."))
    if password_sign_in_off(user):  # told only after the right password: it reveals the account
        from app.auth.oidc import providers

        audit.info(
            "login refused: password sign-in off in region %s (account %s, ip %s)", user.region_id, user.id, remote_addr
        )
        names = ", ".join(p.label for p in providers())
        raise PasswordSignInOffError(
            _(
                "In uw regio logt u niet met een wachtwoord in, maar met uw schoolaccount: %(providers)s.",
                providers=names,
            )
            if names
            else _("In uw regio logt u niet met een wachtwoord in, maar met uw schoolaccount.")
        )
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == account_key))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = user.last_seen_at = now
    audit.info("login ok (account %s, ip %s)", user.id, remote_addr)
    return user


# ------------------------------------------------------------------ sign-in sessions


def start_session(user: User, now: datetime | None = None) -> str:
    """A new sign-in session on the server; its id goes into the cookie (through User.get_id)."""
    sid = secrets.token_urlsafe(24)
    db.session.add(LoginSession(user_id=user.id, sid_hash=hash_token(sid), created_at=now or utcnow()))
    user._session_id = sid
    return sid


def session_user(user_id: int, sid: str) -> User | None:
    """The account of a sign-in session that has not ended (one query), or None."""
    if not sid or len(sid) > 100:
        return None
    user = db.session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, LoginSession.sid_hash == hash_token(sid), LoginSession.ended_at.is_(None))
    )
    if user is not None:
        user._session_id = sid
    return user


def session_started_at(user: User) -> datetime | None:
    """When this request's sign-in session began (None without one): how fresh the sign-in is."""
    sid = getattr(user, "_session_id", None)
    if not sid:
        return None
    return db.session.scalar(
        select(LoginSession.created_at).where(LoginSession.sid_hash == hash_token(sid), LoginSession.ended_at.is_(None))
    )


def end_session(user: User, now: datetime | None = None) -> None:
    """Sign out on the server: this session's cookie, copied or not, no longer signs in."""
    sid = getattr(user, "_session_id", None)
    if sid:
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.sid_hash == hash_token(sid), LoginSession.ended_at.is_(None))
            .values(ended_at=now or utcnow())
        )
        user._session_id = None


def end_all_sessions(user: User, now: datetime | None = None) -> None:
    """End every sign-in session of the account and revoke its API keys (new password, deactivation)."""
    now = now or utcnow()
    user.session_version = (user.session_version or 0) + 1
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    user._session_id = None


def set_password(user: User, password: str) -> None:
    """Set a new password; every sign-in session of the user ends and every API key is revoked
    (a stolen key or cookie must not outlive the password). The caller signs the person in
    again where that fits (a change on the account page)."""
    validate_password(password, user.email)
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    user.failed_logins = 0
    user.locked_until = None
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == f"email:{user.email}"))


def change_password(user: User, current_password: str, new_password: str) -> None:
    from flask_babel import gettext as _

    if not user.password_hash or not check_password(user.password_hash, current_password or ""):
        raise DomainError(_("Uw huidige wachtwoord klopt niet."), code="invalid_credentials", field="current_password")
    if current_password == new_password:
        raise DomainError(
            _("Kies een nieuw wachtwoord dat anders is dan het huidige."), code="weak_password", field="password"
        )
    set_password(user, new_password)
    db.session.flush()
    audit.info("password changed (account %s)", user.id)


# ------------------------------------------------------------------ password reset


def throttled_link_request(
    kind: str, email: str, remote_addr: str | None, now: datetime, per_ip_hour: int, per_account_hour: int
) -> tuple[User | None, bool]:
    """The shared door of the mailed links (password reset, sign-in link): refuse a client address
    that asked more than ``per_ip_hour`` times in the last hour (ThrottledError, the same for every
    address), count this request, and return the account of the address (or None) and whether it
    is over ``per_account_hour`` (then nothing is sent, silently)."""
    from flask_babel import gettext as _

    hour_ago = now - timedelta(hours=1)
    ip_key = f"{kind}-ip:{remote_addr or '-'}"
    if _recent_failures(ip_key, hour_ago) >= per_ip_hour:
        audit.warning("%s link refused: too many requests (ip %s)", kind, remote_addr)
        raise ThrottledError(_("Te veel aanvragen. Probeer het over een uur opnieuw."))
    db.session.add(LoginAttempt(key=ip_key, at=now))
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    account_key = f"{kind}:{email}"
    over_limit = _recent_failures(account_key, hour_ago) >= per_account_hour
    db.session.add(LoginAttempt(key=account_key, at=now))
    return user, over_limit


def request_password_reset(email: str, remote_addr: str | None, now: datetime | None = None) -> None:
    """Mail a reset link when the address belongs to an active account.

    The answer is the same whether the account exists or not, and so is the work done, so
    that the time it takes tells nothing either: every request makes a link secret and its
    hash, writes a request record, voids older links (none, for an unknown address), and
    renders the mail; only a real account gets the link stored and the mail queued (through
    ``queue_mail``: no mail server is spoken to in the request). A client address that asks
    too often is refused (429, also the same for every address); an account gets at most
    PASSWORD_RESET_MAX_PER_HOUR mails an hour (silently). A new link makes the older ones
    invalid. Only the SHA-256 of the link's secret is stored.
    """
    from flask_babel import gettext as _

    from app.mail import queue_mail

    cfg = current_app.config
    now = now or utcnow()
    user, over_limit = throttled_link_request(
        "reset", email, remote_addr, now, cfg["PASSWORD_RESET_MAX_PER_IP_HOUR"], cfg["PASSWORD_RESET_MAX_PER_HOUR"]
    )
    send = user is not None and user.active and not over_limit
    # the same work on every path from here on
    secret = secrets.token_urlsafe(32)
    token_hash = hash_token(secret)
    void_reset_tokens(user if send else None, now)
    link = cfg["BASE_URL"].rstrip("/") + url_for("auth.reset_password", token=secret)
    minutes = cfg["PASSWORD_RESET_SECONDS"] // 60
    addressee = user if user is not None else User(email=email, name="", locale="nl")
    with force_locale(addressee.locale or "nl"):
        body = render_template("auth/mail/password_reset.txt", user=addressee, link=link, minutes=minutes)
        subject = _("Nieuw wachtwoord instellen")
    if not send:
        if user is None or not user.active:
            audit.info("password reset asked for an unknown or inactive account (ip %s)", remote_addr)
        else:
            audit.warning("password reset not sent: too many for account %s (ip %s)", user.id, remote_addr)
        return
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + timedelta(seconds=cfg["PASSWORD_RESET_SECONDS"]),
        )
    )
    queue_mail(user.email, subject, body)
    audit.info("password reset mailed (account %s, ip %s)", user.id, remote_addr)


def _issue_reset_token(user: User, now: datetime, lifetime_seconds: int) -> str:
    """A new single-use link secret for the user (older unused links are voided); only its hash is stored."""
    void_reset_tokens(user, now)
    secret = secrets.token_urlsafe(32)
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=hash_token(secret),
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime_seconds),
        )
    )
    db.session.flush()
    return secret


def void_reset_tokens(
    user: User | None, now: datetime | None = None, purposes: tuple[TokenPurpose, ...] = tuple(TokenPurpose)
) -> None:
    """Make every unused reset or invitation link (and, unless ``purposes`` says otherwise,
    sign-in link) of the user invalid (with None: the same statement, matching nothing — the
    reset page does equal work for unknown addresses)."""
    db.session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.user_id == (user.id if user else 0),
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.purpose.in_(purposes),
        )
        .values(used_at=now or utcnow())
    )


def send_invitation(user: User, invited_by: User | None = None, now: datetime | None = None) -> None:
    """Mail a new account its invitation: a single-use link to choose a password.

    The link is a password-reset link (same table, same single use, same page logic)
    with the longer lifetime INVITATION_SECONDS; a newer link voids the older ones.
    """
    from flask_babel import gettext as _

    from app.mail import queue_mail

    cfg = current_app.config
    now = now or utcnow()
    secret = _issue_reset_token(user, now, cfg["INVITATION_SECONDS"])
    link = cfg["BASE_URL"].rstrip("/") + url_for("auth.accept_invitation", token=secret)
    days = max(1, cfg["INVITATION_SECONDS"] // 86400)
    with force_locale(user.locale or "nl"):
        body = render_template("auth/mail/invitation.txt", user=user, link=link, days=days, invited_by=invited_by)
        queue_mail(user.email, _("Uitnodiging voor Techlab boeken"), body)
    audit.info("invitation mailed (account %s, by account %s)", user.id, invited_by.id if invited_by else "-")


def reset_token_user(secret: str, now: datetime | None = None) -> User | None:
    """The account of a valid (unused, unexpired, newest) reset link, or None."""
    token = _reset_token(secret, now or utcnow())
    return token.user if token is not None else None


def _reset_token(secret: str, now: datetime) -> PasswordResetToken | None:
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(secret)))
    if token is None or token.used_at is not None or token.expires_at <= now:
        return None
    if token.purpose != TokenPurpose.PASSWORD:  # a sign-in link sets no password (app.auth.email_link)
        return None
    if not token.user.active:
        return None
    return token


def reset_password(secret: str, new_password: str, now: datetime | None = None) -> User:
    """Use a reset link once: set the password, clear the lockout, end all sessions."""
    from flask_babel import gettext as _

    now = now or utcnow()
    token = _reset_token(secret, now)
    if token is None:
        raise DomainError(
            _("Deze link is ongeldig, al gebruikt of verlopen. Vraag een nieuwe aan."), code="invalid_token"
        )
    user = token.user
    validate_password(new_password, user.email)
    # single use, also when two requests race: only the one that marks it used goes on
    claimed = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise DomainError(
            _("Deze link is ongeldig, al gebruikt of verlopen. Vraag een nieuwe aan."), code="invalid_token"
        )
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    set_password(user, new_password)
    db.session.flush()
    audit.info("password reset used (account %s)", user.id)
    return user
