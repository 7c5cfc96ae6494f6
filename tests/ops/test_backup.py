"""Backup → wipe → restore loses nothing, on SQLite and on PostgreSQL.

Each test has a database of its own, so it can really be destroyed (the PostgreSQL
database is dropped, the SQLite file deleted) and then restored with the commands an
operator runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from app import create_app
from app.booking.models import HOLDS_PLACE, Booking, BookingStatus
from app.booking.services import ClassDetails, cancel_booking, create_booking
from app.extensions import db
from app.labs.models import Session
from tests import conftest as root
from tests import factories

BACKENDS = ["sqlite", "postgresql"]


def _app(url: str):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x" * 32,
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_BACKEND": "null",
            "WTF_CSRF_ENABLED": False,
        }
    )


def _seed() -> dict:
    """Bookings in every state: confirmed, waitlisted then promoted, cancelled, refused-and-waiting."""
    region = factories.region()
    offer = factories.offer(region, factories.venue(region), capacity_classes=2, capacity_pupils=60, adults_per_class=0)
    start = datetime.now(timezone.utc) + timedelta(days=30)
    sessions = [factories.session(offer, start + timedelta(days=i)) for i in range(2)]
    teachers = [factories.teacher(factories.school(region)) for _ in range(5)]
    db.session.commit()
    made = []
    for i, t in enumerate(teachers):
        for s in sessions:
            b = create_booking(
                t,
                s.id,
                ClassDetails(school_id=t.school_id, groep=str(5 + i % 4), pupils=18 + i, adults=0),
                waitlist=True,
            )
            made.append(b)
            db.session.commit()
    cancel_booking(teachers[0], made[0].id, "ziek")
    db.session.commit()
    return {"sessions": [s.id for s in sessions], "teacher": teachers[4].id}


def _snapshot() -> dict:
    """Every row of every table, in primary key order."""
    db.session.remove()
    data = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            data[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
    return data


def _wipe(backend: str, url: str) -> None:
    db.session.remove()
    db.engine.dispose()
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    else:
        name = url.rsplit("/", 1)[1]
        with root._pg_admin_conn() as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')  # an empty database, as after `createdb`


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_wipe_restore_gives_back_every_booking(backend, fresh_database, tmp_path):
    url = fresh_database(backend)
    app = _app(url)
    runner = app.test_cli_runner()
    backup = tmp_path / "backups" / "techlab.backup"
    with app.app_context():
        db.create_all()
        ids = _seed()
        before = _snapshot()
        bookings = db.session.execute(select(Booking.id, Booking.status)).all()
        assert {s for _, s in bookings} >= {BookingStatus.CONFIRMED, BookingStatus.WAITLISTED, BookingStatus.CANCELLED}
        db.session.remove()

        result = runner.invoke(args=["db-backup", str(backup)])
        assert result.exit_code == 0, result.output
        assert backup.stat().st_size > 0 and not Path(f"{backup}.partial").exists()
        assert "x" * 8 not in result.output

        _wipe(backend, url)
        assert "bookings" not in inspect(db.engine).get_table_names()

        refused = runner.invoke(args=["db-restore", str(backup)])
        assert refused.exit_code != 0 and "--yes" in refused.output
        assert "bookings" not in inspect(db.engine).get_table_names()

        result = runner.invoke(args=["db-restore", str(backup), "--yes"])
        assert result.exit_code == 0, result.output
        after = _snapshot()
        assert after == before
        assert sum(len(rows) for rows in after.values()) > 30 and len(after["bookings"]) == 10
        # session counters match the bookings that hold places
        for sid in ids["sessions"]:
            s = db.session.get(Session, sid)
            held = db.session.scalars(
                select(Booking).where(Booking.session_id == sid, Booking.status.in_(HOLDS_PLACE))
            ).all()
            assert held
            assert (s.booked_classes, s.booked_pupils) == (len(held), sum(b.pupils for b in held))
        # the restored database goes on working: ids continue after the restored ones
        max_id = max(r[0] for r in after["bookings"])
        from app.auth.models import User

        teacher = db.session.get(User, ids["teacher"])
        region = teacher.school.region
        offer = factories.offer(
            region, factories.venue(region), capacity_classes=2, capacity_pupils=60, adults_per_class=0
        )
        s = factories.session(offer, datetime.now(timezone.utc) + timedelta(days=40))
        b = create_booking(teacher, s.id, ClassDetails(school_id=teacher.school_id, groep="7", pupils=20, adults=0))
        db.session.commit()
        assert b.id > max_id
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_restore_over_later_changes_returns_to_the_backup(backend, fresh_database, tmp_path):
    url = fresh_database(backend)
    app = _app(url)
    runner = app.test_cli_runner()
    backup = tmp_path / "techlab.backup"
    with app.app_context():
        db.create_all()
        ids = _seed()
        before = _snapshot()
        assert runner.invoke(args=["db-backup", str(backup)]).exit_code == 0
        # later changes: a cancellation (which promotes a waiting class)
        from app.auth.models import User

        teacher = db.session.get(User, ids["teacher"])
        mine = db.session.scalars(select(Booking).where(Booking.school_id == teacher.school_id)).first()
        cancel_booking(teacher, mine.id, "later")
        db.session.commit()
        assert _snapshot() != before

        result = runner.invoke(args=["db-restore", str(backup), "--yes"])
        assert result.exit_code == 0, result.output
        assert _snapshot() == before
        db.engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_restore_refuses_a_file_that_is_not_a_backup(backend, fresh_database, tmp_path):
    url = fresh_database(backend)
    app = _app(url)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup at all")
    with app.app_context():
        db.create_all()
        _seed()
        before = _snapshot()
        result = app.test_cli_runner().invoke(args=["db-restore", str(junk), "--yes"])
        assert result.exit_code != 0 and "is not a" in result.output
        missing = app.test_cli_runner().invoke(args=["db-restore", str(tmp_path / "nope"), "--yes"])
        assert missing.exit_code != 0 and "no backup file" in missing.output
        assert _snapshot() == before
        db.engine.dispose()
