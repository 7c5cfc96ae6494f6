"""Real processes: gunicorn with gunicorn.conf.py, and two schedulers beside two web
processes on one PostgreSQL database running each job once."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta

import psycopg
import pytest

from app.scheduler import HEARTBEAT, all_jobs

from tests.ops.conftest import (
    BIN,
    create_schema,
    free_port,
    get,
    gunicorn,
    json_lines,
    process_env,
    start,
    stop,
    wait_for_http,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_gunicorn_with_the_config_serves_health_and_logs_json(backend, fresh_database, tmp_path):
    url = fresh_database(backend)
    create_schema(url)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    proc = gunicorn(port, process_env(url), log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", proc, log)
        status, headers, body = get(f"http://127.0.0.1:{port}/health", {"X-Request-ID": "probe-1"})
        assert status == 200 and body["database"] is True and body["status"] == "degraded"
        assert headers["X-Request-ID"] == "probe-1"
        status, headers, _ = get(f"http://127.0.0.1:{port}/api/v1/bestaat-niet", {"X-Request-ID": "probe-2"})
        assert status == 404 and headers["X-Request-ID"] == "probe-2"
    finally:
        stop(proc)
    lines = json_lines(log)
    access = {line["request_id"]: line for line in lines if line.get("event") == "access"}
    assert access["probe-1"]["path"] == "/health" and access["probe-1"]["status"] == 200
    assert access["probe-1"]["logger"] == "gunicorn.access" and access["probe-1"]["time"].endswith("Z")
    app_lines = [line for line in lines if line.get("logger") == "app.request"]
    assert any(line["request_id"] == "probe-2" and line["status"] == 404 for line in app_lines)
    # gunicorn's own lines are JSON too (worker class from the config)
    assert any(line.get("logger") == "gunicorn.error" and "gthread" in line["message"] for line in lines)


@pytest.mark.postgresql_only
def test_two_schedulers_and_two_web_processes_run_each_job_once(fresh_database, tmp_path):
    url = fresh_database("postgresql")
    create_schema(url)
    every = 3
    env = process_env(url, SCHEDULER_EVERY_SECONDS=every, SCHEDULER_HEARTBEAT_SECONDS=every)
    ports = [free_port(), free_port()]
    web_logs = [tmp_path / f"web{i}.log" for i in range(2)]
    sched_logs = [tmp_path / f"scheduler{i}.log" for i in range(2)]
    webs = [gunicorn(port, env, log) for port, log in zip(ports, web_logs, strict=False)]
    schedulers = [start([str(BIN / "flask"), "--app", "wsgi", "scheduler", "run"], env, log) for log in sched_logs]
    procs = webs + schedulers
    try:
        for port, proc, log in zip(ports, webs, web_logs, strict=False):
            wait_for_http(f"http://127.0.0.1:{port}/health", proc, log)
        deadline = time.monotonic() + 60
        while not all(any(line.get("event") == "scheduler_start" for line in json_lines(log)) for log in sched_logs):
            assert time.monotonic() < deadline, [log.read_text()[-2000:] for log in sched_logs]
            assert all(p.poll() is None for p in schedulers), [log.read_text()[-2000:] for log in sched_logs]
            time.sleep(0.2)
        time.sleep(6 * every + 1)  # several runs of every job, both schedulers up
        for port in ports:  # both web nodes see a live scheduler
            status, _, body = get(f"http://127.0.0.1:{port}/health?full=1")
            assert status == 200 and body["status"] == "ok" and body["scheduler"]["alive"] is True
    finally:
        stop(*procs)
    assert all(p.returncode == 0 for p in schedulers), [log.read_text()[-2000:] for log in sched_logs]

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT name, run_key, host, finished_at, result FROM job_runs").fetchall()
    scheduler_pids = {str(p.pid) for p in schedulers}
    hosts = {host.rsplit(":", 1)[1] for _, _, host, _, _ in rows}
    # only the scheduler processes ran jobs (web processes never do), and both took part
    assert hosts == scheduler_pids, (hosts, scheduler_pids)

    runs = defaultdict(list)
    for name, key, _host, finished_at, result in rows:
        runs[name].append(datetime.fromisoformat(key))
        if name != HEARTBEAT:
            assert finished_at is not None and result.startswith("ok"), (name, key, result)
    assert set(runs) == set(all_jobs()) | {HEARTBEAT}
    for name, keys in runs.items():
        keys.sort()
        assert len(keys) == len(set(keys)), f"{name}: a run was claimed twice"
        assert len(keys) >= 5, (name, keys)
        # no scheduled run was missed between the first and the last
        assert all(b - a == timedelta(seconds=every) for a, b in zip(keys, keys[1:], strict=False)), (name, keys)

    # the processes' own account: for each run, exactly one of them did the work, and when both
    # were up the other one found it claimed
    started, skipped = defaultdict(list), defaultdict(list)
    for i, log in enumerate(sched_logs):
        for line in json_lines(log):
            if line.get("event") == "job_started":
                started[(line["job"], line["run_key"])].append(i)
            elif line.get("event") == "job_skipped":
                skipped[(line["job"], line["run_key"])].append(i)
            assert line.get("level") != "ERROR", line
    job_rows = {(name, key) for name, key, *_ in rows if name != HEARTBEAT}
    assert set(started) == job_rows
    assert all(len(who) == 1 for who in started.values()), {k: v for k, v in started.items() if len(v) != 1}
    contested = [k for k in started if k in skipped]
    assert len(contested) >= len(job_rows) // 2  # most runs were raced for, and still ran once
    assert all(skipped[k] != started[k] for k in contested)
    assert {i for who in started.values() for i in who} == {0, 1}  # both schedulers won some runs
