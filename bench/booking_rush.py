"""Benchmark: a booking round opens. Hundreds of teachers book the same few sessions at once.

Starts gunicorn (several workers) on a fresh PostgreSQL database, seeds a region with a
few sessions and many schools with API tokens, then fires concurrent POST /api/v1/bookings
plus some DELETEs at it over loopback (bounded in count and time). Prints throughput,
latency percentiles, errors, server errors and overbookings (must be 0). Beside it, the
same capacity-checked write in plain SQL with the same concurrency, as the reference.

    make bench            # or: .venv/bin/python bench/booking_rush.py --teachers 400
Needs PostgreSQL at BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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


def seed(db_url: str, teachers: int, sessions: int, classes: int, far_share: float = 0.0):
    os.environ.update(APP_ENV="testing", SECRET_KEY="bench-" + uuid.uuid4().hex, DATABASE_URL=db_url)
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.models import HolidayRegion, Region, Role, User
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
        db.session.add_all([BusType(region_id=region.id, name="Touringcar 50", seats=50, cost_per_trip=180,
                                    cost_per_km=1.9),
                            BusType(region_id=region.id, name="Minibus 19", seats=19, cost_per_trip=95, cost_per_km=1.1)])
        db.session.flush()
        layout = random.Random(3)
        offer = Offer(region_id=region.id, venue_id=venue.id, school_year=2026, kind=OfferKind.WORKSHOP, title="Rush",
                      world=World.HITECH_SCIENCE, groep_min=5, groep_max=8, capacity_pupils=classes * 30,
                      capacity_classes=classes, adults_per_class=1, published=True)
        db.session.add(offer)
        db.session.flush()
        start = datetime.now(timezone.utc) + timedelta(days=40)
        session_ids = []
        for i in range(sessions):
            s = Session(offer_id=offer.id, venue_id=venue.id, starts_at=start + timedelta(days=i),
                        ends_at=start + timedelta(days=i, hours=2), capacity_pupils=classes * 30,
                        capacity_classes=classes)
            db.session.add(s)
            db.session.flush()
            session_ids.append(s.id)
        pw = hash_password("bench-password")
        tokens = []
        from app.auth.models import ApiToken

        for i in range(teachers):
            # a share of the schools lies 8-20 km from the techlab (north-east): their classes need a bus
            far = layout.random() < far_share
            dlat, dlon = ((layout.uniform(0.04, 0.09), layout.uniform(0.04, 0.12)) if far else (0.0, 0.0))
            school = School(brin=f"{i:04d}"[-4:].replace("0", "A", 1), location_code=f"Z{i:05d}", name=f"School {i}",
                            region_id=region.id, latitude=52.0 + dlat, longitude=6.0 + dlon)
            db.session.add(school)
            db.session.flush()
            user = User(email=f"t{i}@rush.example", role=Role.TEACHER, region_id=region.id, school_id=school.id,
                        password_hash=pw)
            db.session.add(user)
            db.session.flush()
            secret = f"tlb_bench{i}_{uuid.uuid4().hex}"
            db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(secret), prefix=secret[:10]))
            tokens.append(secret)
        db.session.commit()
        db.engine.dispose()
    return session_ids, tokens


def rush(port: int, session_ids, tokens, workers: int, cancel_share: float, deadline: float):
    rng = random.Random(7)
    latencies, statuses = [], []

    def one(i):
        if time.monotonic() > deadline:
            return None
        token = tokens[i]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps({"session_id": session_ids[i % len(session_ids)], "groep": "7", "pupils": rng.randint(18, 29),
                           "adults": 2, "waitlist": i % 4 == 0})
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/bookings", body, {"Content-Type": "application/json",
                                                         "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        data = resp.read()
        out = [(time.perf_counter() - t0, resp.status)]
        if resp.status == 201 and rng.random() < cancel_share:
            booking_id = json.loads(data)["id"]
            t0 = time.perf_counter()
            conn.request("DELETE", f"/api/v1/bookings/{booking_id}", headers={"Authorization": f"Bearer {token}"})
            r2 = conn.getresponse()
            r2.read()
            out.append((time.perf_counter() - t0, r2.status))
        conn.close()
        return out

    t_start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for res in pool.map(one, range(len(tokens))):
            for lat, status in res or []:
                latencies.append(lat)
                statuses.append(status)
    return time.perf_counter() - t_start, latencies, statuses


def plain_sql(db_url: str, session_ids, n: int, workers: int, classes: int):
    import psycopg

    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE ref_sessions (id int primary key, booked int not null default 0, cap int not null)")
        for sid in session_ids:
            conn.execute("INSERT INTO ref_sessions (id, cap) VALUES (%s, %s)", (sid, classes * 30))
    latencies, ok = [], [0]

    def one(i):
        with psycopg.connect(url, autocommit=True) as c:
            t0 = time.perf_counter()
            cur = c.execute("UPDATE ref_sessions SET booked = booked + %s WHERE id = %s AND booked + %s <= cap",
                            (24, session_ids[i % len(session_ids)], 24))
            latencies.append(time.perf_counter() - t0)
            if cur.rowcount:
                ok[0] += 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - t0
    with psycopg.connect(url) as conn:
        over = conn.execute("SELECT count(*) FROM ref_sessions WHERE booked > cap").fetchone()[0]
    return elapsed, latencies, over


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teachers", type=int, default=300)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=48)
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    ap.add_argument("--cancel-share", type=float, default=0.3)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--far-share", type=float, default=0.4,
                    help="share of schools 8-20 km away (their bookings re-plan buses with OR-Tools)")
    args = ap.parse_args()

    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        print(f"booking_rush: PostgreSQL not reachable at {ADMIN_URL} ({exc.__class__.__name__}); skipped")
        return 0
    name = f"techlab_bench_{os.getpid()}"
    admin.execute(f'CREATE DATABASE "{name}"')
    db_url = ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name
    server = None
    try:
        session_ids, tokens = seed(db_url, args.teachers, args.sessions, args.classes, args.far_share)
        port = free_port()
        env = dict(os.environ, APP_ENV="production", SECRET_KEY="bench-" + uuid.uuid4().hex, DATABASE_URL=db_url,
                   MAIL_BACKEND="null", SESSION_COOKIE_SECURE="0")
        server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "wsgi:app", "--workers",
                                   str(args.workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
                                  cwd=ROOT, env=env)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        elapsed, lat, statuses = rush(port, session_ids, tokens, args.concurrency, args.cancel_share,
                                      time.monotonic() + args.max_seconds)
        import psycopg as pg

        with pg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as c:
            over = c.execute("SELECT count(*) FROM sessions WHERE booked_pupils > capacity_pupils "
                             "OR booked_classes > capacity_classes").fetchone()[0]
            drift = c.execute("""SELECT count(*) FROM sessions s WHERE s.booked_classes <> (
                SELECT count(*) FROM bookings b WHERE b.session_id = s.id AND b.status IN ('confirmed','attended'))
                OR s.booked_classes > s.capacity_classes""").fetchone()[0]
            confirmed = c.execute("SELECT count(*) FROM bookings WHERE status='confirmed'").fetchone()[0]
            # after the rush the bus plans follow the bookings: every confirmed class from afar on a
            # bus, no cancelled or waiting class on one, no bus over its seats
            bussed = c.execute("SELECT count(DISTINCT st.booking_id) FROM bus_stops st JOIN bookings b ON b.id = "
                               "st.booking_id WHERE b.status = 'confirmed'").fetchone()[0]
            far_confirmed = c.execute("SELECT count(*) FROM bookings b JOIN schools sc ON sc.id = b.school_id "
                                      "WHERE b.status = 'confirmed' AND sc.latitude > 52.001").fetchone()[0]
            stray = c.execute("SELECT count(*) FROM bus_stops st JOIN bookings b ON b.id = st.booking_id "
                              "WHERE b.status <> 'confirmed'").fetchone()[0]
            overfull = c.execute("SELECT count(*) FROM buses bu JOIN bus_types t ON t.id = bu.bus_type_id WHERE "
                                 "t.seats < (SELECT coalesce(sum(seats), 0) FROM bus_stops WHERE bus_id = bu.id)"
                                 ).fetchone()[0]
            buses = c.execute("SELECT count(*) FROM buses").fetchone()[0]
        errors = sum(1 for s in statuses if s >= 400 and s not in (409,))
        server_errors = sum(1 for s in statuses if s >= 500)
        ref_elapsed, ref_lat, ref_over = plain_sql(db_url, session_ids, len(tokens), args.concurrency, args.classes)
        print(f"booking rush: {len(tokens)} teachers, {args.sessions} sessions × {args.classes} classes, "
              f"concurrency {args.concurrency}, gunicorn workers {args.workers}")
        print(f"  requests {len(statuses)} in {elapsed:.2f} s = {len(statuses) / elapsed:.0f} req/s")
        print(f"  latency p50 {pct(lat, 50) * 1000:.0f} ms, p95 {pct(lat, 95) * 1000:.0f} ms, "
              f"p99 {pct(lat, 99) * 1000:.0f} ms")
        print(f"  statuses {dict(sorted({s: statuses.count(s) for s in set(statuses)}.items()))}; "
              f"errors (non-409 4xx/5xx) {errors}, server errors {server_errors}")
        print(f"  confirmed bookings {confirmed}, overbooked sessions {over}, counter drift {drift}")
        if args.far_share:
            print(f"  buses {buses}; confirmed classes from afar {far_confirmed}, on a bus {bussed}; "
                  f"stops of cancelled or waiting classes {stray}; buses over their seats {overfull}")
        print(f"  reference plain SQL capacity-checked UPDATE: {len(tokens)} in {ref_elapsed:.2f} s = "
              f"{len(tokens) / ref_elapsed:.0f} writes/s, p50 {pct(ref_lat, 50) * 1000:.1f} ms, "
              f"p99 {pct(ref_lat, 99) * 1000:.1f} ms, overbooked {ref_over}")
        print(f"  ratio (platform req/s ÷ plain SQL writes/s): {(len(statuses) / elapsed) / (len(tokens) / ref_elapsed):.2f}")
        bus_wrong = args.far_share and (bussed != far_confirmed or stray or overfull)
        return 1 if over or drift or server_errors or bus_wrong else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
