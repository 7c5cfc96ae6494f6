"""One row per side effect to deliver: a mail to send, a session to re-plan."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, str_enum, utcnow
from app.extensions import db


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"  # gave up after OUTBOX_MAX_ATTEMPTS, or cannot ever be delivered: an administrator decides
    DISCARDED = "discarded"  # an administrator gave up on it (kept for the record)


class OutboxKind(str, enum.Enum):
    MAIL = "mail"
    REPLAN = "replan"


class OutboxEntry(db.Model):
    """``key`` is the idempotency key: unique. A mail's Message-ID is derived from it; a
    pending re-plan of a session has the key ``replan:<session id>``, so a second change
    while one is pending adds nothing (coalescing)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # the request or job run that wrote it, to find its log lines
    request_id: Mapped[Optional[str]] = mapped_column(String(100))
