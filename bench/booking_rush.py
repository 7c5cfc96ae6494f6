"""Benchmark: a booking round opens. Many teachers book the same few sessions at once.

One run, side by side, on one fresh PostgreSQL database:

1. **plain SQL**: the booking transaction written by hand (psycopg, one persistent
   connection per client, the same concurrency): lock the school and the session rows,
   check that the school has no booking yet and that the class fits, insert the booking
   and its audit event, update the session's counters, commit; and the cancel transaction
   the same way. This is what the database can do for this work on this machine.
2. **the API**: gunicorn started with ``gunicorn.conf.py`` (its defaults unless
   ``--workers/--threads/--worker-class`` or ``--matrix`` say otherwise), warmed up first
   (every worker has imported the app and run the path), then the same mix through
   POST/DELETE /api/v1/bookings over keep-alive loopback connections.

The mix, on both sides: a client picks one of its schools and one of the sessions and
books; 90 % of the confirmed places are cancelled again right away (``--cancel-share``),
so bookings keep succeeding. Each side gets sessions of its own. Printed: both rates
(requests or transactions per second), the ratio, p50/p95/p99 in a closed loop, and the
API's p99 in an open loop at a fixed offered rate (``--open-rate``, 50 requests/s: a
request's latency counts from the moment it was due, so a queue shows). Checked after
the run: 0 overbooked sessions, counters = sums (pupils and classes) on every session,
0 server errors (5xx or a dropped connection).

Then, unless ``--slow-smtp 0``: the API again with MAIL_BACKEND=smtp to a local test SMTP
server that takes ``--slow-smtp`` seconds per message. With the outbox (issue 13 part A)
mail is only queued in the request and the rush keeps its pace; the bench then starts the
outbox worker (``flask --app wsgi outbox work``) and counts the mails that arrive, for a
bounded time. Without an outbox the bench says so: mail is then sent in the request.

Bounded in time and count, loopback only:

    make bench            # or: .venv/bin/python bench/booking_rush.py --seconds 10
    .venv/bin/python bench/booking_rush.py --matrix 2x1:sync,3x1:sync,4x1:sync,2x4:gthread --slow-smtp 0

The booking path alone is measured by default: MAIL_BACKEND=null and the bus re-plan after
the commit off (TRANSPORT_REPLAN_AFTER_COMMIT=0; ``--replan`` keeps it on; the outbox moves
it out of the request). Needs PostgreSQL at BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HOLDS_PLACE_SQL = "('confirmed', 'attended')"
ACTIVE_SQL = "('confirmed', 'waitlisted', 'attended', 'no_show')"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def ms(values, p) -> str:
    return f"{pct(values, p) * 1000:.1f}"


# ------------------------------------------------------------------ seeding


def seed(db_url: str, teachers: int, groups: int, sessions: int, classes: int, far_share: float):
    """A region, one offer, ``groups`` sets of ``sessions`` sessions (one set per phase, so every
    phase books empty sessions), ``teachers`` schools each with a teacher and an API token."""
    os.environ.update(APP_ENV="testing", SECRET_KEY="bench-" + uuid.uuid4().hex, DATABASE_URL=db_url)
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.models import ApiToken, HolidayRegion, Region, Role, User
    from app.auth.services import hash_password
    from app.auth.tokens import hash_token
    from app.extensions import db
    from app.labs.models import Offer, OfferKind, Session, Venue, VenueKind, World
    from app.schools.models import School
    from app.transport.models import BusType

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        region = Region(code="rush", name="Rush", holiday_region=HolidayRegion.MIDDEN)
        db.session.add(region)
        db.session.flush()
        venue = Venue(region_id=region.id, kind=VenueKind.TECHLAB, name="Techlab", latitude=52.0, longitude=6.0)
        db.session.add(venue)
        db.session.add_all(
            [
                BusType(region_id=region.id, name="Touringcar 50", seats=50, cost_per_trip=180, cost_per_km=1.9),
                BusType(region_id=region.id, name="Minibus 19", seats=19, cost_per_trip=95, cost_per_km=1.1),
            ]
        )
        db.session.flush()
        layout = random.Random(3)
        offer = Offer(
            region_id=region.id,
            venue_id=venue.id,
            school_year=2026,
            kind=OfferKind.WORKSHOP,
            title="Rush",
            world=World.HITECH_SCIENCE,
            groep_min=5,
            groep_max=8,
            capacity_pupils=classes * 30,
            capacity_classes=classes,
            adults_per_class=1,
            published=True,
        )
        db.session.add(offer)
        db.session.flush()
        start = datetime.now(timezone.utc) + timedelta(days=40)
        session_groups = []
        for g in range(groups):
            ids = []
            for i in range(sessions):
                s = Session(
                    offer_id=offer.id,
                    venue_id=venue.id,
                    starts_at=start + timedelta(days=g, hours=i),
                    ends_at=start + timedelta(days=g, hours=i, minutes=50),
                    capacity_pupils=classes * 30,
                    capacity_classes=classes,
                )
                db.session.add(s)
                db.session.flush()
                ids.append(s.id)
            session_groups.append(ids)
        pw = hash_password("bench-password")
        people = []
        for i in range(teachers):
            # a share of the schools may lie 8-20 km from the techlab (north-east): their classes need a bus
            far = layout.random() < far_share
            dlat, dlon = (layout.uniform(0.04, 0.09), layout.uniform(0.04, 0.12)) if far else (0.0, 0.0)
            school = School(
                brin=f"{i:04d}"[-4:].replace("0", "A", 1),
                location_code=f"Z{i:05d}",
                name=f"School {i}",
                region_id=region.id,
                latitude=52.0 + dlat,
                longitude=6.0 + dlon,
            )
            db.session.add(school)
            db.session.flush()
            user = User(
                email=f"t{i}@rush.example",
                role=Role.TEACHER,
                region_id=region.id,
                school_id=school.id,
                password_hash=pw,
            )
            db.session.add(user)
            db.session.flush()
            secret = f"tlb_bench{i}_{uuid.uuid4().hex}"
            db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(secret), prefix=secret[:10]))
            people.append({"school_id": school.id, "user_id": user.id, "token": secret, "email": user.email})
        db.session.commit()
        db.engine.dispose()
    return session_groups, people


# ------------------------------------------------------------------ the mix


class Tally:
    """Latencies and outcomes of one phase (thread-safe enough: list.append is atomic)."""

    def __init__(self):
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def add(self, latency: float, status: int):
        self.latencies.append(latency)
        self.statuses.append(status)

    def outcome(self) -> str:
        counts = {s: self.statuses.count(s) for s in set(self.statuses)}
        return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def _clients(people, concurrency):
    """Each client gets schools of its own (a school does not book against itself)."""
    return [people[i::concurrency] for i in range(concurrency)]


# ---- plain SQL

BOOK_SQL = [
    "SELECT id FROM schools WHERE id = %s FOR UPDATE",
    "SELECT capacity_pupils, capacity_classes, booked_pupils, booked_classes FROM sessions WHERE id = %s FOR UPDATE",
    f"SELECT id FROM bookings WHERE session_id = %s AND school_id = %s AND status IN {ACTIVE_SQL} LIMIT 1",
    """INSERT INTO bookings (session_id, school_id, status, groep_min, groep_max, class_name, pupils, adults,
       contact_user_id, contact_name, contact_email, remarks, bus_declined, override_reason, sequence, cancel_reason,
       created_at, updated_at) VALUES (%s, %s, 'confirmed', 7, 7, '7', %s, 2, %s, '', %s, '', false, '', 0, '', now(),
       now())
       RETURNING id""",
    """INSERT INTO booking_events (booking_id, actor_id, at, action, from_status, to_status, reason)
       VALUES (%s, %s, now(), 'create', NULL, 'confirmed', '')""",
    """UPDATE sessions SET booked_pupils = booked_pupils + %s, booked_classes = booked_classes + 1, updated_at = now()
       WHERE id = %s""",
]
CANCEL_SQL = [
    "SELECT session_id FROM bookings WHERE id = %s",
    "SELECT booked_pupils FROM sessions WHERE id = %s FOR UPDATE",
    """UPDATE bookings SET status = 'cancelled', cancelled_at = now(), sequence = sequence + 1, updated_at = now()
       WHERE id = %s AND status = 'confirmed' RETURNING pupils""",
    """INSERT INTO booking_events (booking_id, actor_id, at, action, from_status, to_status, reason)
       VALUES (%s, %s, now(), 'cancel', 'confirmed', 'cancelled', '')""",
    """UPDATE sessions SET booked_pupils = booked_pupils - %s, booked_classes = booked_classes - 1, updated_at = now()
       WHERE id = %s""",
]


def sql_book(conn, person, session_id, pupils) -> tuple[int, int | None]:
    """The booking transaction in plain SQL: (status like the API's, booking id)."""
    with conn.transaction():
        cur = conn.cursor()
        cur.execute("SET LOCAL lock_timeout = '5000ms'")
        cur.execute(BOOK_SQL[0], (person["school_id"],))
        cur.execute(BOOK_SQL[1], (session_id,))
        cap_p, cap_c, booked_p, booked_c = cur.fetchone()
        cur.execute(BOOK_SQL[2], (session_id, person["school_id"]))
        if cur.fetchone() is not None:
            return 409, None
        if booked_p + pupils > cap_p or booked_c + 1 > cap_c:
            return 409, None
        cur.execute(BOOK_SQL[3], (session_id, person["school_id"], pupils, person["user_id"], person["email"]))
        booking_id = cur.fetchone()[0]
        cur.execute(BOOK_SQL[4], (booking_id, person["user_id"]))
        cur.execute(BOOK_SQL[5], (pupils, session_id))
    return 201, booking_id


def sql_cancel(conn, person, booking_id) -> int:
    with conn.transaction():
        cur = conn.cursor()
        cur.execute("SET LOCAL lock_timeout = '5000ms'")
        cur.execute(CANCEL_SQL[0], (booking_id,))
        session_id = cur.fetchone()[0]
        cur.execute(CANCEL_SQL[1], (session_id,))
        cur.execute(CANCEL_SQL[2], (booking_id,))
        row = cur.fetchone()
        if row is None:
            return 422
        cur.execute(CANCEL_SQL[3], (booking_id, person["user_id"]))
        cur.execute(CANCEL_SQL[4], (row[0], session_id))
    return 200


def closed_loop(
    people, session_ids, concurrency, seconds, cancel_share, seed_value, connect, book, cancel, close=lambda conn: None
) -> tuple[Tally, float]:
    """Every client books (and cancels a share again) as fast as it can for ``seconds``; one
    connection per client, opened (``connect(k, mine)``) before the clock runs."""
    tally = Tally()
    groups = _clients(people, concurrency)
    conns = [connect(k, groups[k]) for k in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)

    def client(k):
        rng = random.Random(seed_value * 1000 + k)
        mine, conn = groups[k], conns[k]
        barrier.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            person = rng.choice(mine)
            t0 = time.perf_counter()
            status, booking_id = book(conn, person, rng.choice(session_ids), rng.randint(18, 29))
            tally.add(time.perf_counter() - t0, status)
            if status == 201 and rng.random() < cancel_share:
                t0 = time.perf_counter()
                status = cancel(conn, person, booking_id)
                tally.add(time.perf_counter() - t0, status)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for c in conns:
        close(c)
    return tally, elapsed


def run_sql(pg_url, people, session_ids, concurrency, seconds, cancel_share, seed_value=11) -> tuple[Tally, float]:
    import psycopg

    # persistent connections, opened before the clock runs
    return closed_loop(
        people,
        session_ids,
        concurrency,
        seconds,
        cancel_share,
        seed_value,
        lambda k, mine: psycopg.connect(pg_url),
        sql_book,
        sql_cancel,
        close=lambda c: c.close(),
    )


# ---- the API


class Api:
    """One keep-alive HTTP connection (reopened when the server closes it)."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def call(self, method, path, token, body=None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, payload, headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.conn.close()
                    self.conn = None
                return resp.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # a keep-alive connection the server had closed: once more on a new one
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    return 0, b""
            except OSError:
                self.conn.close()
                self.conn = None
                return 0, b""
        return 0, b""


def api_book(api, person, session_id, pupils):
    status, data = api.call(
        "POST",
        "/api/v1/bookings",
        person["token"],
        {"session_id": session_id, "groep": "7", "pupils": pupils, "adults": 2},
    )
    booking_id = json.loads(data)["id"] if status == 201 else None
    return status, booking_id


def api_cancel(api, person, booking_id):
    return api.call("DELETE", f"/api/v1/bookings/{booking_id}", person["token"])[0]


def run_api_closed(port, people, session_ids, concurrency, seconds, cancel_share, seed_value=23) -> tuple[Tally, float]:
    def connect(k, mine):
        api = Api(port)
        api.call("GET", "/api/v1/me", mine[0]["token"])  # connected before the clock runs
        return api

    return closed_loop(
        people, session_ids, concurrency, seconds, cancel_share, seed_value, connect, api_book, api_cancel
    )


def run_api_open(
    port, people, session_ids, rate, seconds, cancel_share, senders=48, seed_value=37, grace=10.0
) -> Tally:
    """Open loop: request i is due at start + i/rate whatever happened before; its latency counts
    from that moment (a server that falls behind shows its queue in the figures). Bounded: a
    request still unsent ``grace`` seconds after the schedule ends is not sent; it is counted in
    ``tally.unsent`` and its latency as at least the time it waited."""
    tally = Tally()
    tally.unsent = 0
    cutoff = [float("inf")]
    rng = random.Random(seed_value)
    jobs: queue.Queue = queue.Queue()
    cancels: queue.Queue = queue.Queue()
    busy = set()  # (school, session) pairs in flight
    busy_lock = threading.Lock()

    def sender():
        api = Api(port)
        r = random.Random(rng.random())
        while True:
            job = jobs.get()
            if job is None:
                return
            due, kind, person, arg = job
            if time.perf_counter() > cutoff[0]:
                tally.unsent += 1
                tally.add(time.perf_counter() - due, -1)
                continue
            if kind == "DELETE":
                status = api_cancel(api, person, arg)
            else:
                status, booking_id = api_book(api, person, arg, r.randint(18, 29))
                if status == 201 and r.random() < cancel_share:
                    cancels.put((person, booking_id))
                with busy_lock:
                    busy.discard((person["school_id"], arg))
            tally.add(time.perf_counter() - due, status)

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for t in threads:
        t.start()
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    cutoff[0] = start + seconds + grace
    for i in range(total):
        due = start + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        try:
            person, booking_id = cancels.get_nowait()
            jobs.put((due, "DELETE", person, booking_id))
        except queue.Empty:
            person, session_id = rng.choice(people), rng.choice(session_ids)
            jobs.put((due, "POST", person, session_id))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    return tally


# ------------------------------------------------------------------ gunicorn


class Server:
    def __init__(self, db_url, workers=None, threads=None, worker_class=None, extra_env=None, log_dir=None):
        self.port = free_port()
        env = dict(
            os.environ,
            APP_ENV="production",
            SECRET_KEY="bench-" + uuid.uuid4().hex,
            DATABASE_URL=db_url,
            MAIL_BACKEND="null",
            SESSION_COOKIE_SECURE="0",
            BIND=f"127.0.0.1:{self.port}",
            TRANSPORT_REPLAN_AFTER_COMMIT="0",
        )
        for name in ("WEB_CONCURRENCY", "WORKERS", "THREADS", "WORKER_CLASS"):
            env.pop(name, None)  # gunicorn.conf.py's own defaults unless the bench is told otherwise
        if workers:
            env["WEB_CONCURRENCY"] = str(workers)
        if threads:
            env["THREADS"] = str(threads)
        if worker_class:
            env["WORKER_CLASS"] = worker_class
        env.update(extra_env or {})
        self.env = env
        # the server's log lines (access log, request log) go to a file, as to journald in production
        self.log = open(Path(log_dir or tempfile.gettempdir()) / f"gunicorn-{self.port}.log", "wb")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not come up (see " + self.log.name + ")")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by gunicorn's workers: per request, a figure that
        other work on the machine does not change much (unlike the rates)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:  # ppid: a worker of this gunicorn
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def describe(self) -> str:
        out = subprocess.run(
            [
                str(Path(sys.executable).parent / "python"),
                "-c",
                "import runpy; c = runpy.run_path('gunicorn.conf.py'); "
                "print(c['workers'], c['threads'], c['worker_class'])",
            ],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        workers, threads, worker_class = out.stdout.split()
        return f"{workers} workers × {threads} threads ({worker_class})"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def warm(port, people, session_ids, concurrency, seconds, cancel_share):
    """Every worker imports the app at its first request and every thread compiles its
    statements: a few seconds of the same mix before the clock runs."""
    run_api_closed(port, people, session_ids, concurrency, seconds, cancel_share, seed_value=5)


# ------------------------------------------------------------------ slow SMTP


def slow_smtp_server(delay: float):
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.ids: list[str] = []

        async def handle_DATA(self, server, session, envelope):
            import asyncio
            from email import message_from_bytes

            await asyncio.sleep(delay)
            self.ids.append(message_from_bytes(envelope.content).get("Message-ID", ""))
            return "250 OK"

    port = free_port()
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler, port


def outbox_counts(pg_url):
    import psycopg

    with psycopg.connect(pg_url) as c:
        if c.execute("SELECT to_regclass('outbox')").fetchone()[0] is None:
            return None
        pending, done, dead = c.execute(
            "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'done'), "
            "count(*) FILTER (WHERE status = 'dead') FROM outbox WHERE kind = 'mail'"
        ).fetchone()
        return {"pending": pending, "done": done, "dead": dead}


def flush_outbox_to_null(db_url, pg_url):
    """The earlier phases queued their mail too (MAIL_BACKEND=null): deliver it to nowhere first,
    so the slow run's mail is what the worker sends to the slow server."""
    if outbox_counts(pg_url) is None:
        return None
    env = dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY="bench-" + uuid.uuid4().hex,
        DATABASE_URL=db_url,
        MAIL_BACKEND="null",
        TRANSPORT_REPLAN_AFTER_COMMIT="0",
    )
    try:
        subprocess.run(
            [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "outbox", "work", "--once"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pass
    return outbox_counts(pg_url)


def slow_smtp_phase(args, db_url, pg_url, people, session_ids, log_dir, baseline):
    flushed = flush_outbox_to_null(db_url, pg_url)
    if flushed is not None:
        print(
            f"\n(the earlier phases' mail went to the null backend first: {flushed['done']} delivered, "
            f"{flushed['pending']} pending)"
        )
    controller, handler, smtp_port = slow_smtp_server(args.slow_smtp)
    server = Server(
        db_url,
        args.workers,
        args.threads,
        args.worker_class,
        log_dir=log_dir,
        extra_env={"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port)},
    )
    worker = None
    try:
        before = outbox_counts(pg_url)
        tally, elapsed = run_api_closed(
            server.port, people, session_ids, args.concurrency, args.slow_seconds, args.cancel_share, seed_value=41
        )
        rate = len(tally.statuses) / elapsed
        print(
            f"\nwith SMTP to a test server that takes {args.slow_smtp:g} s per message "
            f"({server.describe()}, {args.slow_seconds:g} s):"
        )
        print(
            f"  {len(tally.statuses)} requests = {rate:.0f} req/s (without mail {baseline:.0f}), "
            f"p50 {ms(tally.latencies, 50)} ms, p99 {ms(tally.latencies, 99)} ms; {tally.outcome()}"
        )
        server_errors = sum(1 for s in tally.statuses if s >= 500 or s == 0)
        counts = outbox_counts(pg_url)
        if counts is None:
            print(
                "  no outbox yet (issue 13 part A not merged): mail is sent in the request after the commit, "
                f"so the rush waits for SMTP; {len(handler.ids)} mails arrived during the rush"
            )
            return server_errors
        queued = counts["pending"] + counts["done"] + counts["dead"] - sum((before or {}).values())
        print(
            f"  mail queued to the outbox during the rush: {queued} "
            f"({len(handler.ids)} arrived meanwhile, {counts['pending']} pending)"
        )
        worker_log = open(Path(log_dir) / "outbox-worker.log", "wb")
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "outbox", "work"],
            cwd=ROOT,
            env=server.env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.drain_seconds:
            time.sleep(1)
            if worker.poll() is not None:
                print(f"  the outbox worker exited with {worker.returncode} (see {worker_log.name})")
                break
            counts = outbox_counts(pg_url)
            if counts["pending"] == 0:
                break
        counts = outbox_counts(pg_url)
        unique = len(set(handler.ids))
        print(
            f"  outbox worker: after {time.monotonic() - t0:.0f} s {len(handler.ids)} mails arrived "
            f"({unique} distinct Message-IDs), {counts['pending']} still pending, {counts['dead']} dead letters"
            + (
                ""
                if counts["pending"] == 0
                else f" (bounded at {args.drain_seconds:g} s; {args.slow_smtp:g} s per message)"
            )
        )
        return server_errors + (1 if unique != len(handler.ids) else 0)
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        server.stop()
        controller.stop()


# ------------------------------------------------------------------ checks


def check_counters(pg_url):
    import psycopg

    with psycopg.connect(pg_url) as c:
        over = c.execute(
            "SELECT count(*) FROM sessions WHERE booked_pupils > capacity_pupils OR booked_classes > capacity_classes"
        ).fetchone()[0]
        drift = c.execute(f"""SELECT count(*) FROM sessions s LEFT JOIN (
            SELECT session_id, count(*) AS classes, sum(pupils) AS pupils FROM bookings
            WHERE status IN {HOLDS_PLACE_SQL} GROUP BY session_id) b ON b.session_id = s.id
            WHERE s.booked_classes <> coalesce(b.classes, 0) OR s.booked_pupils <> coalesce(b.pupils, 0)""").fetchone()[
            0
        ]
        confirmed = c.execute(f"SELECT count(*) FROM bookings WHERE status IN {HOLDS_PLACE_SQL}").fetchone()[0]
        cancelled = c.execute("SELECT count(*) FROM bookings WHERE status = 'cancelled'").fetchone()[0]
        bus = None
        if c.execute("SELECT count(*) FROM schools WHERE latitude > 52.001").fetchone()[0]:
            bussed = c.execute(
                "SELECT count(DISTINCT st.booking_id) FROM bus_stops st JOIN bookings b ON b.id = "
                "st.booking_id WHERE b.status = 'confirmed'"
            ).fetchone()[0]
            far = c.execute(
                "SELECT count(*) FROM bookings b JOIN schools sc ON sc.id = b.school_id "
                "WHERE b.status = 'confirmed' AND sc.latitude > 52.001"
            ).fetchone()[0]
            stray = c.execute(
                "SELECT count(*) FROM bus_stops st JOIN bookings b ON b.id = st.booking_id "
                "WHERE b.status <> 'confirmed'"
            ).fetchone()[0]
            bus = (far, bussed, stray)
    return over, drift, confirmed, cancelled, bus


# ------------------------------------------------------------------ main


def parse_matrix(text):
    configs = []
    for item in filter(None, (text or "").split(",")):
        size, _, worker_class = item.partition(":")
        workers, _, threads = size.partition("x")
        configs.append((int(workers), int(threads or 1), worker_class or None))
    return configs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--teachers", type=int, default=960, help="schools, each with a teacher and a token")
    ap.add_argument("--sessions", type=int, default=6, help="sessions each side books (the rush: few sessions)")
    ap.add_argument("--classes", type=int, default=2000, help="capacity of a session in classes (×30 pupils)")
    ap.add_argument("--concurrency", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=15, help="length of each closed-loop phase")
    ap.add_argument("--warmup-seconds", type=float, default=4)
    ap.add_argument("--open-rate", type=float, default=50, help="offered requests/s of the open loop (0: skip)")
    ap.add_argument("--open-seconds", type=float, default=20)
    ap.add_argument("--cancel-share", type=float, default=0.9)
    ap.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    ap.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)")
    ap.add_argument("--worker-class", help="sync or gthread (default: gunicorn.conf.py's)")
    ap.add_argument("--matrix", help="also measure these gunicorn set-ups, e.g. 2x1:sync,2x4:gthread")
    ap.add_argument("--slow-smtp", type=float, default=3, help="seconds per message of the slow SMTP run (0: skip)")
    ap.add_argument("--slow-seconds", type=float, default=8)
    ap.add_argument("--drain-seconds", type=float, default=30, help="how long the outbox worker may deliver")
    ap.add_argument("--replan", action="store_true", help="keep the bus re-plan after the commit (in the request)")
    ap.add_argument(
        "--far-share", type=float, default=0.0, help="share of schools 8-20 km away (their bookings re-plan buses)"
    )
    args = ap.parse_args()

    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        print(f"booking_rush: PostgreSQL not reachable at {ADMIN_URL} ({exc.__class__.__name__}); skipped")
        return 0
    name = f"techlab_bench_{os.getpid()}"
    admin.execute(f'CREATE DATABASE "{name}"')
    db_url = ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name
    pg_url = db_url.replace("postgresql+psycopg://", "postgresql://")
    configs = [(args.workers, args.threads, args.worker_class)] + parse_matrix(args.matrix)
    log_dir = tempfile.mkdtemp(prefix="booking_rush-")
    failures = 0
    if args.replan:
        os.environ["TRANSPORT_REPLAN_AFTER_COMMIT"] = "1"
    try:
        groups = 1 + 2 * len(configs) + (1 if args.slow_smtp else 0)
        session_groups, people = seed(db_url, args.teachers, groups, args.sessions, args.classes, args.far_share)
        print(
            f"load average before the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
            f"({os.cpu_count()} cores; other work on the machine slows both sides)"
        )
        print(
            f"booking rush: {args.teachers} schools, {args.sessions} sessions per side, concurrency "
            f"{args.concurrency}, {args.cancel_share:.0%} of confirmed places cancelled again; closed loop "
            f"{args.seconds:g} s per side; MAIL_BACKEND=null, bus re-plan in the request "
            f"{'on' if args.replan else 'off'}"
        )

        sql, sql_elapsed = run_sql(pg_url, people, session_groups[0], args.concurrency, args.seconds, args.cancel_share)
        sql_rate = len(sql.statuses) / sql_elapsed
        print(
            f"\nplain SQL (psycopg, {args.concurrency} persistent connections, one transaction per booking or cancel):"
        )
        print(
            f"  {len(sql.statuses)} transactions in {sql_elapsed:.1f} s = {sql_rate:.0f} tx/s, "
            f"p50 {ms(sql.latencies, 50)} ms, p95 {ms(sql.latencies, 95)} ms, p99 {ms(sql.latencies, 99)} ms; "
            f"{sql.outcome()}"
        )

        extra_env = {"TRANSPORT_REPLAN_AFTER_COMMIT": "1"} if args.replan else {}
        results = []
        for n, (workers, threads, worker_class) in enumerate(configs):
            sessions_closed, sessions_open = session_groups[1 + 2 * n], session_groups[2 + 2 * n]
            server = Server(db_url, workers, threads, worker_class, extra_env=extra_env, log_dir=log_dir)
            try:
                label = server.describe() + (" — gunicorn.conf.py defaults" if n == 0 and not any(configs[0]) else "")
                warm(server.port, people, sessions_closed, args.concurrency, args.warmup_seconds, args.cancel_share)
                cpu0 = server.cpu_seconds()
                api, elapsed = run_api_closed(
                    server.port, people, sessions_closed, args.concurrency, args.seconds, args.cancel_share
                )
                cpu_per_request = (server.cpu_seconds() - cpu0) / max(1, len(api.statuses))
                opened = None
                if args.open_rate:
                    opened = run_api_open(
                        server.port, people, sessions_open, args.open_rate, args.open_seconds, args.cancel_share
                    )
            finally:
                server.stop()
            rate = len(api.statuses) / elapsed
            errors = sum(1 for s in api.statuses + (opened.statuses if opened else []) if s >= 500 or s == 0)
            # (-1: an open-loop request the bench did not send in time; not a server error)
            failures += errors
            results.append((label, rate))
            print(f"\nAPI, {label}:")
            print(
                f"  closed loop: {len(api.statuses)} requests in {elapsed:.1f} s = {rate:.0f} req/s, "
                f"p50 {ms(api.latencies, 50)} ms, p95 {ms(api.latencies, 95)} ms, p99 {ms(api.latencies, 99)} ms; "
                f"{api.outcome()}; workers' CPU {cpu_per_request * 1000:.1f} ms per request"
            )
            if opened:
                behind = (
                    f" ({opened.unsent} not sent: the server was still behind 10 s after the schedule "
                    f"ended; their latency counts as their wait, so p99 is a lower bound)"
                    if opened.unsent
                    else ""
                )
                print(
                    f"  open loop at {args.open_rate:g} req/s offered for {args.open_seconds:g} s: "
                    f"{len(opened.statuses)} requests, p50 {ms(opened.latencies, 50)} ms, "
                    f"p95 {ms(opened.latencies, 95)} ms, p99 {ms(opened.latencies, 99)} ms; {opened.outcome()}{behind}"
                )
            print(f"  ratio API ÷ plain SQL: {rate / sql_rate:.3f}; server errors (5xx or dropped) {errors}")

        if args.slow_smtp:
            failures += slow_smtp_phase(args, db_url, pg_url, people, session_groups[-1], log_dir, results[0][1])

        print(f"\nload average after the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        over, drift, confirmed, cancelled, bus = check_counters(pg_url)
        print(
            f"\nafter the run: {confirmed} bookings hold a place, {cancelled} cancelled; overbooked sessions {over}, "
            f"sessions whose counters differ from the sums of their bookings (pupils, classes) {drift}"
        )
        if bus is not None and args.replan:
            far, bussed, stray = bus
            print(f"  confirmed classes from afar {far}, on a bus {bussed}; stops of cancelled classes {stray}")
            failures += (far != bussed) + (stray != 0)
        failures += over + drift
        return 1 if failures else 0
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        if failures:
            print(f"server logs kept in {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
