"""The scheduler process: `flask --app wsgi scheduler run`.

Web processes never run jobs. Run one scheduler process per deployment; even if two
run by mistake (or on purpose, for failover), every scheduled run is first claimed in the
database (app.jobs) under a key both processes derive from the trigger — the run's
scheduled time — so each run happens once. A heartbeat claim (each minute by default)
lets the health check see that a scheduler is alive. Each run logs under a request id of
its own (``job-…``), which also goes on the mails it sends.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from datetime import datetime, timedelta, timezone
from importlib import import_module

import click
from flask import current_app
from flask.cli import AppGroup
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, select

from app.db import utcnow
from app.extensions import db
from app.jobs import JobRun, claim_run, finish_run
from app.ops.logs import bind_request_id, request_id_var

log = logging.getLogger(__name__)
scheduler_cli = AppGroup("scheduler", help="Scheduled jobs.")

JOB_MODULES = ["app.booking.jobs", "app.labs.jobs", "app.transport.jobs", "app.auth.jobs"]
HEARTBEAT = "scheduler.heartbeat"
TIMEZONE = "Europe/Amsterdam"
MISFIRE_GRACE_SECONDS = 300
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def all_jobs() -> dict[str, dict]:
    jobs = {}
    for path in JOB_MODULES:
        for job in import_module(path).JOBS:
            jobs[job["id"]] = job
    return jobs


def run_key(scheduled_at: datetime) -> str:
    """The key of one scheduled run: its scheduled time in UTC, to the second.

    Every scheduler process computes the same key for the same run (see scheduled_time),
    so the claim in the database lets exactly one of them run it.
    """
    return scheduled_at.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def scheduled_time(trigger, now: datetime, lookback: timedelta = timedelta(seconds=MISFIRE_GRACE_SECONDS)) -> datetime:
    """The run of ``trigger`` that is due at ``now``: its latest fire time not after now.

    Derived from the trigger, not from the moment the process happened to wake up, so two
    schedulers that fire the same run a little apart agree on which run it is.
    """
    fire = trigger.get_next_fire_time(None, now - lookback)
    due = None
    while fire is not None and fire <= now:
        due = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return due or now


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(job_id: str, scheduled_at: datetime, now: datetime | None = None) -> bool:
    """Run one scheduled run of a job if this process wins the claim; True if it ran."""
    job = all_jobs()[job_id]
    key = run_key(scheduled_at)
    info = {"job": job_id, "run_key": key}
    if not claim_run(job_id, key, host=process_name()):
        log.info("job %s run %s claimed by another process", job_id, key, extra={**info, "event": "job_skipped"})
        return False
    log.info("job %s run %s started", job_id, key, extra={**info, "event": "job_started"})
    try:
        result = job["func"](now or utcnow())
        db.session.commit()
        finish_run(job_id, key, f"ok: {result}")
        log.info("job %s run %s done: %s", job_id, key, result, extra={**info, "event": "job_done"})
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s run %s failed", job_id, key, extra={**info, "event": "job_failed"})
        finish_run(job_id, key, f"error: {exc}")
    finally:
        db.session.remove()
    return True


def heartbeat(scheduled_at: datetime) -> bool:
    """Record that a scheduler is alive (one row per heartbeat, whichever process wins);
    the winner removes heartbeats older than a day."""
    if not claim_run(HEARTBEAT, run_key(scheduled_at), host=process_name()):
        return False
    db.session.execute(delete(JobRun).where(JobRun.name == HEARTBEAT, JobRun.started_at < utcnow() - timedelta(days=1)))
    db.session.commit()
    return True


def last_heartbeat() -> datetime | None:
    return db.session.scalar(
        select(JobRun.started_at).where(JobRun.name == HEARTBEAT).order_by(JobRun.started_at.desc()).limit(1)
    )


def scheduler_alive(now: datetime | None = None, last: datetime | None = None) -> bool:
    """A scheduler is alive when a heartbeat came within three heartbeat intervals."""
    now = now or utcnow()
    last = last if last is not None else last_heartbeat()
    interval = current_app.config.get("SCHEDULER_HEARTBEAT_SECONDS", 60)
    return last is not None and last >= now - timedelta(seconds=3 * interval)


def _aligned_interval(seconds: int) -> IntervalTrigger:
    """Every ``seconds``, on a grid shared by all processes (counted from a fixed epoch)."""
    return IntervalTrigger(seconds=seconds, start_date=EPOCH, timezone=timezone.utc)


def build_triggers(every_seconds: int = 0) -> dict[str, object]:
    """Each job's trigger (its own cron schedule, or every N seconds for a drill/test)."""
    triggers = {}
    for job_id, job in all_jobs().items():
        if every_seconds:
            triggers[job_id] = _aligned_interval(every_seconds)
        else:
            args = {k: v for k, v in job.items() if k not in ("id", "func", "trigger")}
            if job["trigger"] != "cron":
                raise ValueError(f"job {job_id}: only cron triggers are supported")
            triggers[job_id] = CronTrigger(timezone=TIMEZONE, **args)
    return triggers


def _fire(app, job_id: str, trigger):
    def fire():
        with app.app_context():
            token = bind_request_id(prefix="job-")
            try:
                scheduled = scheduled_time(trigger, datetime.now(timezone.utc))
                if job_id == HEARTBEAT:
                    heartbeat(scheduled)
                else:
                    run_job(job_id, scheduled)
            except Exception:
                log.exception("scheduler: %s could not run", job_id, extra={"job": job_id, "event": "job_error"})
            finally:
                db.session.remove()
                request_id_var.reset(token)

    return fire


@scheduler_cli.command("run")
@click.option(
    "--every-seconds",
    type=int,
    default=None,
    help="Drills and tests only: fire every job every N seconds (default: SCHEDULER_EVERY_SECONDS).",
)
def run_cmd(every_seconds):
    """Run the scheduler in the foreground (one per deployment; a second one is harmless)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()
    every = every_seconds if every_seconds is not None else app.config["SCHEDULER_EVERY_SECONDS"]
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    sched = BlockingScheduler(timezone=TIMEZONE)
    triggers = build_triggers(every)
    for job_id, trigger in triggers.items():
        sched.add_job(
            _fire(app, job_id, trigger),
            trigger,
            id=job_id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )
    beat = _aligned_interval(app.config["SCHEDULER_HEARTBEAT_SECONDS"])
    sched.add_job(
        _fire(app, HEARTBEAT, beat),
        beat,
        id=HEARTBEAT,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
    )

    def stop(signum, frame):
        log.info(
            "scheduler %s stopping (signal %s); running jobs finish first",
            process_name(),
            signum,
            extra={"event": "scheduler_stop"},
        )
        sched.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "scheduler %s: %d jobs%s: %s",
        process_name(),
        len(triggers),
        f" every {every} s" if every else "",
        ", ".join(sorted(triggers)),
        extra={"event": "scheduler_start"},
    )
    sched.start()
    log.info("scheduler %s stopped", process_name(), extra={"event": "scheduler_stopped"})


@scheduler_cli.command("list")
def list_cmd():
    for job_id, job in sorted(all_jobs().items()):
        click.echo(f"{job_id}\t{job['trigger']}\t{ {k: v for k, v in job.items() if k not in ('id', 'func')} }")


@scheduler_cli.command("run-once")
@click.argument("job_id")
def run_once_cmd(job_id):
    """Run one job now (claimed like a scheduled run)."""
    if job_id not in all_jobs():
        raise click.ClickException(f"unknown job {job_id}")
    ran = run_job(job_id, datetime.now().astimezone())
    click.echo("ran" if ran else "another process ran it")
