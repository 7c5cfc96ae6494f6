"""Run-once bookkeeping for scheduled jobs.

Every job run claims a row keyed by (job name, run key) before doing its work. The
unique constraint makes the claim succeed in exactly one process, however many
schedulers or web processes race for it; the loser sees the existing row and skips.
Jobs themselves are written to be safe to run twice as well (they re-check state).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import String, UniqueConstraint, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class JobRun(db.Model):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("name", "run_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    run_key: Mapped[str] = mapped_column(String(100))
    host: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(500), default="")


def claim_run(name: str, run_key: str, host: str = "") -> bool:
    """Claim the run (name, run_key) in its own committed transaction; True if ours."""
    try:
        db.session.execute(insert(JobRun).values(name=name, run_key=run_key, host=host, started_at=utcnow()))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def finish_run(name: str, run_key: str, result: str = "") -> None:
    run = db.session.scalar(select(JobRun).where(JobRun.name == name, JobRun.run_key == run_key))
    if run is not None:
        run.finished_at = utcnow()
        run.result = result[:500]
        db.session.commit()
