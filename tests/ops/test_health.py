"""/health: what a load balancer and monitoring ask; 503 only when this node cannot serve."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import create_app
from app.db import utcnow
from app.extensions import db
from app.jobs import JobRun
from app.scheduler import HEARTBEAT, run_key

from tests.ops.conftest import free_port


def test_health_without_a_scheduler_is_degraded_but_serving(client):
    resp = client.get("/health")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "degraded" and body["database"] is True
    assert body["scheduler"] == {"alive": False, "last_heartbeat_at": None}
    assert body["version"]
    assert resp.headers["Cache-Control"] == "no-store"
    # monitoring asks for the full picture and gets an error it can alert on
    assert client.get("/health?full=1").status_code == 503


def _heartbeat(at):
    db.session.add(JobRun(name=HEARTBEAT, run_key=run_key(at), host="test", started_at=at))
    db.session.commit()


def test_health_with_a_recent_heartbeat_is_ok(client):
    beat = utcnow() - timedelta(seconds=30)
    _heartbeat(beat)
    resp = client.get("/health?full=1")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and body["scheduler"]["alive"] is True
    assert body["scheduler"]["last_heartbeat_at"].startswith(beat.strftime("%Y-%m-%dT%H:%M:%S"))


def test_an_old_heartbeat_means_the_scheduler_is_dead(client):
    _heartbeat(utcnow() - timedelta(minutes=10))
    body = client.get("/health").get_json()
    assert body["scheduler"]["alive"] is False and body["scheduler"]["last_heartbeat_at"]
    assert body["status"] == "degraded"


def _unreachable_url(backend, tmp_path) -> str:
    if backend == "sqlite":
        return "sqlite:///" + str(tmp_path / "no-such-dir" / "db.sqlite3")
    return f"postgresql+psycopg://techlab:s3cret-pw@127.0.0.1:{free_port()}/techlab?connect_timeout=2"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_unreachable_database_is_503_without_secrets(backend, tmp_path):
    url = _unreachable_url(backend, tmp_path)
    broken = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url})
    with broken.app_context():
        resp = broken.test_client().get("/health")
        db.engine.dispose()
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "error" and body["database"] is False
    assert body["scheduler"] == {"alive": None, "last_heartbeat_at": None}
    text = resp.get_data(as_text=True)
    for secret in ("s3cret", "techlab:", "127.0.0.1", "no-such-dir", "Error", "sqlite3"):
        assert secret not in text
