"""Sign-in through OpenID Connect providers: which person at which provider is which account.

A person is known to a provider by a pseudonymous subject (``sub``), stable per provider;
the pair (provider, subject) names one account here. The provider's name is the one the
deployment configured (``OIDC_PROVIDERS``), so renaming a provider in the configuration
unlinks its accounts. Only the institution code (BRIN or location code, public data) is
kept beside it, to show an administrator where the link came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.auth.models import User
from app.db import UTCDateTime, utcnow
from app.extensions import db


class OidcIdentity(db.Model):
    """An account's link to a person at an OpenID provider (one per provider and subject)."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    # the institution claim at the first sign-in (BRIN or location code), or "" when none came
    institution: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(
        backref=backref(
            "oidc_identities", cascade="all, delete-orphan", passive_deletes=True, order_by="OidcIdentity.provider"
        )
    )


class OidcNonce(db.Model):
    """A nonce whose ID token was accepted: a second token with it is a replay and is refused.

    Only the SHA-256 of provider and nonce is kept, until ``expires_at`` (the retention job
    removes older ones: the sign-in state that could still carry the nonce is gone by then)."""

    __tablename__ = "oidc_nonces"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
