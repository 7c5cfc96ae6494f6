"""``flask --app wsgi outbox work``: the outbox worker process (see app.outbox.worker)."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask.cli import AppGroup

from app.ops.logs import bind_request_id, request_id_var

log = logging.getLogger(__name__)
outbox_cli = AppGroup("outbox", help="The outbox: mail and re-planning after the commit.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due now and exit.")
def work_cmd(once):
    """Deliver outbox entries (runs until SIGTERM/SIGINT; the batch in hand is finished first)."""
    from app.outbox import worker

    token = bind_request_id(prefix="outbox-")
    try:
        if once:
            click.echo(f"outbox entries handled: {worker.drain()}")
            return
        stop = threading.Event()

        def on_signal(signum, frame):
            log.info("outbox worker stopping (signal %s)", signum, extra={"event": "outbox_worker_stop"})
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        log.info("outbox worker started", extra={"event": "outbox_worker_start"})
        worker.work(stop=stop)
    finally:
        request_id_var.reset(token)


@outbox_cli.command("status")
def status_cmd():
    """Queue depth, age of the oldest pending entry, dead letters."""
    from app.outbox.services import queue_stats

    click.echo(queue_stats())
