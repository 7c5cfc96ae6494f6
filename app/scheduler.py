"""The scheduler process: `flask --app wsgi scheduler run`.

Web processes never run jobs. Run one scheduler process per deployment; even if two
run by mistake, every scheduled run is first claimed in the database (app.jobs), so each
run happens once. A heartbeat claim each minute lets the health check see it is alive.
"""
from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta
from importlib import import_module

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.jobs import JobRun, claim_run, finish_run

log = logging.getLogger(__name__)
scheduler_cli = AppGroup("scheduler", help="Scheduled jobs.")

JOB_MODULES = ["app.booking.jobs", "app.labs.jobs", "app.transport.jobs", "app.reporting.jobs", "app.auth.jobs"]
HEARTBEAT = "scheduler.heartbeat"


def all_jobs() -> dict[str, dict]:
    jobs = {}
    for path in JOB_MODULES:
        try:
            module = import_module(path)
        except ModuleNotFoundError as exc:
            if exc.name != path:
                raise
            continue
        for job in getattr(module, "JOBS", []):
            jobs[job["id"]] = job
    return jobs


def run_key(scheduled_at: datetime) -> str:
    return scheduled_at.astimezone().replace(second=0, microsecond=0).isoformat()


def run_job(job_id: str, scheduled_at: datetime, now: datetime | None = None) -> bool:
    """Run one scheduled run of a job if this process wins the claim; True if it ran."""
    job = all_jobs()[job_id]
    key = run_key(scheduled_at)
    if not claim_run(job_id, key, host=socket.gethostname()):
        return False
    try:
        result = job["func"](now or utcnow())
        db.session.commit()
        finish_run(job_id, key, f"ok: {result}")
    except Exception as exc:  # noqa: BLE001 — a failing job is logged and recorded, the scheduler goes on
        db.session.rollback()
        log.exception("job %s failed", job_id)
        finish_run(job_id, key, f"error: {exc}")
    finally:
        db.session.remove()
    return True


def heartbeat(now: datetime) -> str:
    return "alive"


def scheduler_alive(now: datetime | None = None) -> bool:
    now = now or utcnow()
    last = db.session.scalar(select(JobRun.started_at).where(JobRun.name == HEARTBEAT)
                             .order_by(JobRun.started_at.desc()).limit(1))
    return last is not None and last >= now - timedelta(minutes=3)


def _wrapped(app, job_id: str, trigger):
    def fire():
        scheduled = datetime.now().astimezone()
        with app.app_context():
            if job_id == HEARTBEAT:
                claim_run(HEARTBEAT, run_key(scheduled), host=socket.gethostname())
                db.session.remove()
                return
            run_job(job_id, scheduled)
    return fire


@scheduler_cli.command("run")
def run_cmd():
    """Run the scheduler in the foreground (one per deployment)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()
    sched = BlockingScheduler(timezone="Europe/Amsterdam")
    jobs = all_jobs()
    for job_id, job in jobs.items():
        trigger_args = {k: v for k, v in job.items() if k not in ("id", "func", "trigger")}
        sched.add_job(_wrapped(app, job_id, job["trigger"]), job["trigger"], id=job_id, coalesce=True,
                      max_instances=1, misfire_grace_time=300, **trigger_args)
    sched.add_job(_wrapped(app, HEARTBEAT, "cron"), "cron", id=HEARTBEAT, minute="*")
    click.echo(f"scheduler: {len(jobs)} jobs: {', '.join(sorted(jobs))}")
    sched.start()


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
