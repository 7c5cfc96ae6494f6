"""Benchmark: CPU time of one booking request in the web process, repeatable on a busy machine.

The booking rush (bench/booking_rush.py) measures rates and latencies, which other work on
the machine changes a lot. This script measures what the rush's capacity depends on: the
web process's CPU time per request, for the same mix (POST /api/v1/bookings, then DELETE
of 90 % of the confirmed places), on a fresh PostgreSQL database, in one process and one
thread, calling the WSGI app the way gunicorn does (a WSGI environ per request; the app's
log lines formatted as in production and written to /dev/null). The database's own work
runs in the PostgreSQL server and is not counted. Prints CPU ms per request (POST and
DELETE apart), statements per request, and with ``--profile`` the top of a cProfile.

    .venv/bin/python bench/booking_cpu.py --requests 2000
    .venv/bin/python bench/booking_cpu.py --requests 1000 --profile 40

Needs PostgreSQL at BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def environ(method: str, path: str, token: str, body: dict | None = None) -> dict:
    """The environ gunicorn's worker hands the app (the keys it sets for such a request)."""
    payload = json.dumps(body).encode() if body is not None else b""
    env = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "RAW_URI": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "Python-urllib/3",
        "HTTP_ACCEPT_ENCODING": "identity",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_CONNECTION": "keep-alive",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(payload),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body is not None:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(payload))
    return env


def call(app, env) -> tuple[int, bytes]:
    status = []

    def start_response(s, headers, exc_info=None):
        status.append(int(s.split(None, 1)[0]))

    result = app(env, start_response)
    try:
        data = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return status[0], data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000, help="requests measured (after --warmup)")
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--teachers", type=int, default=200)
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--cancel-share", type=float, default=0.9)
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        help="print this many lines of a cProfile (sorted by tottime and by cumulative)",
    )
    ap.add_argument("--show-sql", action="store_true", help="print the statements of a few requests")
    ap.add_argument("--calls", action="store_true", help="count the Python function calls (under cProfile)")
    ap.add_argument("--profile-out", help="write the cProfile stats to this file")
    args = ap.parse_args()

    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        print(f"booking_cpu: PostgreSQL not reachable at {ADMIN_URL} ({exc.__class__.__name__}); skipped")
        return 0
    name = f"techlab_cpu_{os.getpid()}"
    admin.execute(f'CREATE DATABASE "{name}"')
    db_url = ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name
    try:
        from booking_rush import seed

        groups, people = seed(db_url, args.teachers, 1, args.sessions, 2000, 0.0)
        session_ids = groups[0]
        import logging

        for handler in list(logging.getLogger().handlers):  # the migrations' log set-up (alembic.ini)
            logging.getLogger().removeHandler(handler)
        # the web process as gunicorn.conf.py starts it (wsgi.py), production settings, mail queued only
        os.environ.update(
            APP_ENV="production",
            SECRET_KEY="bench-" + uuid.uuid4().hex,
            DATABASE_URL=db_url,
            MAIL_BACKEND="null",
            SESSION_COOKIE_SECURE="0",
        )
        devnull = open(os.devnull, "w")
        real_stdout, sys.stdout = sys.stdout, devnull  # the JSON log lines are formatted, then dropped
        try:
            from app import create_app
            from app.extensions import db
            from sqlalchemy import event

            app = create_app()
            statements = {"POST": 0, "DELETE": 0}
            current = ["POST"]
            with app.app_context():
                engine = db.engine

            @event.listens_for(engine, "before_cursor_execute")
            def _count(conn, cursor, statement, params, context, executemany):
                statements[current[0]] += 1
                if show_sql[0]:
                    real_stdout.write(f"[{current[0]}] {' '.join(statement.split())[:400]}\n")

            show_sql = [False]
            rng = random.Random(7)
            pending: list[tuple[dict, int]] = []
            cpu = {"POST": 0.0, "DELETE": 0.0}
            count = {"POST": 0, "DELETE": 0}
            outcomes: dict = {}

            def one(measure: bool):
                if pending and rng.random() < 0.5:
                    person, booking_id = pending.pop()
                    env = environ("DELETE", f"/api/v1/bookings/{booking_id}", person["token"])
                    kind = "DELETE"
                else:
                    person = rng.choice(people)
                    env = environ(
                        "POST",
                        "/api/v1/bookings",
                        person["token"],
                        {
                            "session_id": rng.choice(session_ids),
                            "groep": "7",
                            "pupils": rng.randint(18, 29),
                            "adults": 2,
                        },
                    )
                    kind = "POST"
                current[0] = kind
                t0 = time.process_time()
                status, data = call(app, env)
                spent = time.process_time() - t0
                if kind == "POST" and status == 201 and rng.random() < args.cancel_share:
                    pending.append((person, json.loads(data)["id"]))
                if measure:
                    cpu[kind] += spent
                    count[kind] += 1
                    outcomes[(kind, status)] = outcomes.get((kind, status), 0) + 1

            for _ in range(args.warmup):
                one(False)
            if args.show_sql:
                show_sql[0] = True
                for _ in range(4):
                    one(False)
                show_sql[0] = False
            statements.update(POST=0, DELETE=0)
            profiler = None
            if args.profile or args.profile_out or args.calls:
                import cProfile

                profiler = cProfile.Profile(time.process_time)  # CPU time, not waiting for the database
                profiler.enable()
            for _ in range(args.requests):
                one(True)
            if profiler is not None:
                profiler.disable()
        finally:
            sys.stdout = real_stdout
            devnull.close()
        total = sum(count.values())
        print(
            f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; {total} requests measured "
            f"(after {args.warmup} warm-up), one process, one thread{' (under cProfile)' if profiler else ''}"
        )
        for kind in ("POST", "DELETE"):
            if count[kind]:
                print(
                    f"  {kind:6} {count[kind]:5} requests: {cpu[kind] / count[kind] * 1000:.2f} ms CPU per request, "
                    f"{statements[kind] / count[kind]:.1f} statements per request"
                )
        print(f"  all    {total:5} requests: {sum(cpu.values()) / max(1, total) * 1000:.2f} ms CPU per request")
        print("  outcomes: " + ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(outcomes.items())))
        if profiler is not None:
            import pstats

            if args.profile_out:
                profiler.dump_stats(args.profile_out)
            stats = pstats.Stats(profiler)
            print(f"  Python function calls per request (repeatable, unlike times): {stats.total_calls / total:.0f}")
            if args.profile:
                for key in ("tottime", "cumulative"):
                    pstats.Stats(profiler).sort_stats(key).print_stats(args.profile)
        return 0
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
