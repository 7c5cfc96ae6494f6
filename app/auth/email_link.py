"""Sign-in by e-mail link (issue 18 point 3): for teachers without a school account.

The link is a ``PasswordResetToken`` row with purpose ``login``: only the SHA-256 of its
secret is stored, it works once and expires after LOGIN_LINK_SECONDS (15 minutes). Asking
for a link works like asking for a password reset (``auth.services.request_password_reset``):
the same answer and the same work for known and unknown addresses, throttled per client
address (429) and per account (silently), the mail written to the outbox. Only the school's
own roles (teachers, school coordinators) sign in this way; for the others the request does
the same work and sends nothing.

Opening the link shows a button; only pressing it (a POST) uses the link, so a mail
scanner that fetches every link in a mail does not use it up.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import select, update

from app.auth.models import PasswordResetToken, Role, TokenPurpose, User
from app.auth.services import audit, throttled_link_request, void_reset_tokens
from app.auth.tokens import hash_token
from app.db import utcnow
from app.errors import DomainError
from app.extensions import db

# the roles that may sign in by e-mail link: the school's own people
LINK_ROLES = (Role.TEACHER, Role.SCHOOL_COORDINATOR)


class InvalidLinkError(DomainError):
    code = "invalid_token"
    status = 404


def request_login_link(email: str, remote_addr: str | None, now: datetime | None = None) -> None:
    """Mail a sign-in link when the address belongs to an active teacher or school coordinator.

    Raises ThrottledError (the same for every address) when the client address asked too
    often; an account gets at most LOGIN_LINK_MAX_PER_HOUR links an hour (silently). A new
    link voids the older sign-in links of the account (not its password links)."""
    from flask_babel import gettext as _

    from app.mail import queue_mail

    cfg = current_app.config
    now = now or utcnow()
    user, over_limit = throttled_link_request(
        "link", email, remote_addr, now, cfg["LOGIN_LINK_MAX_PER_IP_HOUR"], cfg["LOGIN_LINK_MAX_PER_HOUR"]
    )
    send = user is not None and user.active and user.role in LINK_ROLES and not over_limit
    # the same work on every path from here on
    secret = secrets.token_urlsafe(32)
    token_hash = hash_token(secret)
    void_reset_tokens(user if send else None, now, purposes=(TokenPurpose.LOGIN,))
    link = cfg["BASE_URL"].rstrip("/") + url_for("auth.login_link", token=secret)
    minutes = cfg["LOGIN_LINK_SECONDS"] // 60
    addressee = user if user is not None else User(email=email, name="", locale="nl")
    with force_locale(addressee.locale or "nl"):
        body = render_template("auth/mail/login_link.txt", user=addressee, link=link, minutes=minutes)
        subject = _("Uw inloglink voor Techlab boeken")
    if not send:
        if user is None or not user.active or user.role not in LINK_ROLES:
            audit.info("sign-in link asked for an unknown, inactive or non-school account (ip %s)", remote_addr)
        else:
            audit.warning("sign-in link not sent: too many for account %s (ip %s)", user.id, remote_addr)
        return
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + timedelta(seconds=cfg["LOGIN_LINK_SECONDS"]),
            purpose=TokenPurpose.LOGIN,
        )
    )
    queue_mail(user.email, subject, body)
    audit.info("sign-in link mailed (account %s, ip %s)", user.id, remote_addr)


def _login_token(secret: str, now: datetime) -> PasswordResetToken | None:
    if not secret or len(secret) > 200:
        return None
    token = db.session.scalar(
        select(PasswordResetToken).where(
            PasswordResetToken.token_hash == hash_token(secret), PasswordResetToken.purpose == TokenPurpose.LOGIN
        )
    )
    if token is None or token.used_at is not None or token.expires_at <= now:
        return None
    if not token.user.active or token.user.role not in LINK_ROLES:
        return None
    return token


def login_link_user(secret: str, now: datetime | None = None) -> User | None:
    """The account of a valid (unused, unexpired) sign-in link, or None."""
    token = _login_token(secret, now or utcnow())
    return token.user if token is not None else None


def use_login_link(secret: str, remote_addr: str | None = None, now: datetime | None = None) -> User:
    """Use a sign-in link once and return its account; the caller signs it in (``views.sign_in``).

    Single use also when two requests race: only the one that marks the row used goes on."""
    from flask_babel import gettext as _

    now = now or utcnow()
    token = _login_token(secret, now)
    message = _("Deze inloglink is ongeldig, al gebruikt of verlopen. Vraag een nieuwe aan.")
    if token is None:
        raise InvalidLinkError(message)
    claimed = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise InvalidLinkError(message)
    user = token.user
    # the password lockout is left as it is: it guards password guesses, not this mailbox
    user.last_login_at = user.last_seen_at = now
    db.session.flush()
    audit.info("sign-in by e-mail link (account %s, ip %s)", user.id, remote_addr)
    return user
