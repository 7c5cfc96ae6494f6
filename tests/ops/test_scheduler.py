"""The scheduler's run keys, heartbeat and job runs (in process; the multi-process proof
is in test_processes.py)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from app.extensions import db
from app.jobs import JobRun
from app.scheduler import HEARTBEAT, _aligned_interval, _fire, build_triggers, heartbeat, run_key, scheduled_time

UTC = timezone.utc


def test_two_processes_waking_at_different_moments_agree_on_the_run():
    trigger = CronTrigger(minute="*/15", timezone="Europe/Amsterdam")
    due = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)  # 10:15 in Amsterdam
    early = scheduled_time(trigger, due + timedelta(milliseconds=3))
    late = scheduled_time(trigger, due + timedelta(seconds=70))  # a busy process, within the misfire grace
    assert early == late == due
    assert run_key(early) == run_key(late) == "2026-11-23T09:15:00+00:00"
    # the next run has another key
    assert run_key(scheduled_time(trigger, due + timedelta(minutes=15, seconds=1))) != run_key(due)


def test_interval_triggers_share_one_grid_across_processes():
    a, b = _aligned_interval(2), _aligned_interval(2)  # made at different moments in two processes
    now = datetime(2026, 11, 23, 9, 0, 5, 400000, tzinfo=UTC)
    assert (
        scheduled_time(a, now)
        == scheduled_time(b, now + timedelta(milliseconds=300))
        == datetime(2026, 11, 23, 9, 0, 4, tzinfo=UTC)
    )


def test_drill_schedule_fires_every_job_every_few_seconds():
    normal, drill = build_triggers(), build_triggers(every_seconds=3)
    assert set(normal) == set(drill) and "booking.send_reminders" in normal
    now = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
    fires = drill["booking.send_reminders"].get_next_fire_time(None, now)
    assert fires - now < timedelta(seconds=3)


def test_a_fired_job_runs_once_under_its_own_request_id(app, caplog):
    caplog.set_level(logging.INFO)
    db.session.commit()
    db.session.remove()
    # a grid point at most 4 minutes back is inside the misfire grace (5 min), so both fires name
    # the same run; not in the last seconds before the next grid point (the two fires would straddle it)
    trigger = _aligned_interval(240)
    left = 240 - time.time() % 240  # the grid is aligned to 2000-01-01, a multiple of 240 s
    if left < 10:
        time.sleep(left + 0.5)
    fire = _fire(app, "booking.send_reminders", trigger)
    fire()
    fire()  # a second process (or a second fire) of the same run: claimed already
    runs = db.session.scalars(select(JobRun).where(JobRun.name == "booking.send_reminders")).all()
    assert len(runs) == 1 and runs[0].result.startswith("ok") and runs[0].finished_at is not None
    assert runs[0].run_key == run_key(scheduled_time(trigger, datetime.now(UTC)))
    events = [(r.event, r.request_id) for r in caplog.records if getattr(r, "job", None) == "booking.send_reminders"]
    assert [e for e, _ in events] == ["job_started", "job_done", "job_skipped"]
    assert all(rid.startswith("job-") for _, rid in events)
    assert events[0][1] == events[1][1] != events[2][1]  # one id per fired run
    db.session.remove()


def test_heartbeat_once_per_beat_and_old_ones_pruned(app):
    old = datetime.now(UTC) - timedelta(days=2)
    db.session.add(JobRun(name=HEARTBEAT, run_key=run_key(old), host="old", started_at=old))
    db.session.commit()
    beat = datetime.now(UTC).replace(microsecond=0)
    assert heartbeat(beat) is True
    assert heartbeat(beat) is False
    keys = db.session.scalars(select(JobRun.run_key).where(JobRun.name == HEARTBEAT)).all()
    assert keys == [run_key(beat)]
    db.session.remove()
