"""Benchmark: the reach dashboard on the national data set (PostgreSQL).

Builds (once, then reuses) a database with all DUO schools in 80 regions and five school
years of bookings (`flask demo load --national --years 5`), then times each dashboard
query and page for one region and for the whole country, the CSV and XLSX exports with
their peak Python memory, and beside them one hand-written SQL query computing schools
and pupils reached as the reference.

    .venv/bin/python bench/reach.py [--rebuild]
Needs PostgreSQL at BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "techlab_bench_reach"


def timed(fn, repeat=3):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def with_memory(fn):
    """(seconds without tracing, peak traced Python memory, result): tracing slows Python down."""
    t0 = time.perf_counter()
    fn()
    untraced = time.perf_counter() - t0
    tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return untraced, peak, result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--years", type=int, default=5)
    args = ap.parse_args()
    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        print(f"reach: PostgreSQL not reachable at {ADMIN_URL} ({exc.__class__.__name__}); skipped")
        return 0
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
    if exists and args.rebuild:
        admin.execute(f'DROP DATABASE "{DB_NAME}" WITH (FORCE)')
        exists = None
    if not exists:
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    url = ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + DB_NAME
    os.environ.update(APP_ENV="testing", SECRET_KEY="bench", DATABASE_URL=url, MAIL_BACKEND="null")
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from app import create_app
    from app.auth.models import Region, Role, User
    from app.auth.tokens import create_api_token
    from app.demo.national import load_national
    from app.extensions import db
    from app.reporting.reach import Filters, school_rows, summary, trend
    from app.schools.models import School
    from app.timeutil import school_year_of
    from app.db import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        t0 = time.perf_counter()
        load_national(years=args.years, seed=1, echo=lambda *_: None)
        build = time.perf_counter() - t0
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        year = school_year_of(utcnow()) - 1  # the last complete school year
        region_id, n_schools = db.session.execute(
            select(School.region_id, func.count())
            .where(School.region_id.is_not(None))
            .group_by(School.region_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        counts = db.session.execute(
            text(
                "SELECT (SELECT count(*) FROM schools), (SELECT count(*) FROM regions), "
                "(SELECT count(*) FROM sessions), (SELECT count(*) FROM bookings)"
            )
        ).one()
        region_code = db.session.get(Region, region_id).code
        leader = db.session.scalar(select(User).where(User.region_id == region_id, User.role == Role.PROGRAMME_LEADER))
        admin_user = db.session.scalar(select(User).where(User.role == Role.ADMIN)) or User(
            email="admin@national.techlab.nl", role=Role.ADMIN, password_hash=leader.password_hash
        )
        db.session.add(admin_user)
        _, leader_token = create_api_token(leader)
        db.session.commit()
        leader_email, admin_email = leader.email, admin_user.email

        fr, fn = Filters(year, region_id), Filters(year, None)
        rows = []
        t, region_rows = timed(lambda: school_rows(fr))
        rows.append(("region: per-school reach query", t))
        rows.append(("region: summary (all measures)", timed(lambda: summary(fr, region_rows))[0]))
        rows.append(("region: trend over 5 years", timed(lambda: trend(fr))[0]))
        t, national_rows = timed(lambda: school_rows(fn), repeat=1)
        rows.append(("national: per-school reach query", t))
        rows.append(("national: summary", timed(lambda: summary(fn, national_rows), repeat=1)[0]))
        ref_sql = text("""
            SELECT o.region_id, count(DISTINCT b.school_id), sum(c.pupils)
            FROM (SELECT b.school_id, b.groep_min, b.groep_max, max(b.attended_pupils) AS pupils, min(b.session_id) AS sid
                  FROM bookings b JOIN sessions s ON s.id = b.session_id
                  WHERE b.status = 'attended' AND s.starts_at >= :a AND s.starts_at < :b
                  GROUP BY b.school_id, b.groep_min, b.groep_max) c
            JOIN bookings b ON b.school_id = c.school_id AND b.session_id = c.sid
            JOIN sessions s ON s.id = c.sid JOIN offers o ON o.id = s.offer_id
            GROUP BY o.region_id""")
        from datetime import datetime, timezone

        bounds = {"a": datetime(year, 8, 1, tzinfo=timezone.utc), "b": datetime(year + 1, 8, 1, tzinfo=timezone.utc)}
        ref_t, ref = timed(lambda: db.session.execute(ref_sql, bounds).all())
        ours = sum(1 for r in national_rows if r.classes)
        db.session.remove()

    client = app.test_client()
    client.post("/inloggen", data={"email": leader_email, "password": "demo-techlab-2026"})
    page_t, resp = timed(lambda: client.get(f"/bereik/?school_year={year}"))
    assert resp.status_code == 200, resp.status_code
    rows.append(("region: dashboard page (HTTP)", page_t))
    csv_t, csv_peak, _ = with_memory(
        lambda: b"".join(client.get(f"/bereik/export/scholen.csv?school_year={year}").response)
    )
    xlsx_t, xlsx_peak, _ = with_memory(lambda: client.get(f"/bereik/export/scholen.xlsx?school_year={year}").data)
    api_t, api = timed(
        lambda: client.get(
            f"/api/v1/reach?school_year={year}&group_by=municipality",
            headers={"Authorization": f"Bearer {leader_token}"},
        )
    )
    rows.append(("region: GET /api/v1/reach", api_t))
    client.post("/uitloggen")
    admin_client = app.test_client()
    admin_client.post("/inloggen", data={"email": admin_email, "password": "demo-techlab-2026"})
    nat_csv_t, nat_csv_peak, body = with_memory(
        lambda: b"".join(admin_client.get(f"/bereik/export/scholen.csv?school_year={year}").response)
    )

    print(
        f"reach benchmark on PostgreSQL: {counts[0]} schools, {counts[1]} regions, {counts[2]} sessions, "
        f"{counts[3]} bookings (build {build:.0f} s; 0 when reused); school year {year}/{year + 1}; "
        f"largest region {region_code} with {n_schools} schools"
    )
    print("| measure | time |")
    print("|---|---|")
    for name, t in rows:
        print(f"| {name} | {t * 1000:.0f} ms |")
    print(f"| region: CSV export | {csv_t * 1000:.0f} ms, peak {csv_peak / 1e6:.1f} MB |")
    print(f"| region: XLSX export (all 7 tables) | {xlsx_t * 1000:.0f} ms, peak {xlsx_peak / 1e6:.1f} MB |")
    n_lines = body.count(b"\n") - 1
    print(f"| national: CSV export ({n_lines} schools) | {nat_csv_t * 1000:.0f} ms, peak {nat_csv_peak / 1e6:.1f} MB |")
    print(f"| reference: one SQL query, schools and pupils reached per region (national) | {ref_t * 1000:.0f} ms |")
    ref_schools = sum(r[1] for r in ref)
    print(f"schools reached nationally: dashboard {ours}, reference SQL {ref_schools}")
    return 0 if ours == ref_schools else 1


if __name__ == "__main__":
    sys.exit(main())
