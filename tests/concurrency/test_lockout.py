"""A burst of parallel sign-ins on one account: the lockout holds.

48 parallel wrong passwords make at most LOGIN_MAX_FAILURES real password checks (counted at
the one place a password is checked, ``auth.services.check_password``), the account's
failure counter records every attempt, and the right password sent in a burst once the
account is locked does not sign in. The control case switches the row lock off and shows
the race it prevents. PostgreSQL only: SQLite serialises every writer anyway.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.auth import services
from app.auth.models import ApiToken, LoginAttempt, User
from app.extensions import db
from tests import factories

BURST = 48


@pytest.fixture
def counted_checks(monkeypatch):
    """The number of password checks made (the seam: services.check_password)."""
    real = services.check_password
    lock = threading.Lock()
    calls = {"n": 0}

    def counting(password_hash, password):
        with lock:
            calls["n"] += 1
        return real(password_hash, password)

    monkeypatch.setattr(services, "check_password", counting)
    return calls


def _account():
    user = factories.teacher(factories.school(factories.region()))
    db.session.commit()
    email, user_id = user.email, user.id
    db.session.remove()
    return email, user_id


def _burst(app, email: str, passwords: list[str]) -> list[int]:
    barrier = threading.Barrier(len(passwords))

    def attempt(password):
        client = app.test_client()
        barrier.wait(timeout=30)
        resp = client.post(
            "/api/v1/auth/token", json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
        )
        return resp.status_code

    with ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(attempt, passwords))


def _state(user_id: int, email: str):
    db.session.remove()
    user = db.session.get(User, user_id)
    attempts = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.key == f"email:{email}")
    )
    tokens = db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user_id))
    return user, attempts, tokens


def _postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race exists only where writers run in parallel")


@pytest.mark.slow
def test_parallel_wrong_passwords_make_at_most_the_allowed_checks(app, backend, counted_checks):
    _postgresql_only(backend)
    email, user_id = _account()
    allowed = app.config["LOGIN_MAX_FAILURES"]

    answers = _burst(app, email, ["fout-fout-fout-fout"] * BURST)
    print(f"with the lock: {counted_checks['n']} checks for {BURST} parallel wrong passwords")
    assert counted_checks["n"] <= allowed, f"{counted_checks['n']} password checks for {BURST} attempts"
    assert answers.count(401) == counted_checks["n"] and answers.count(429) == BURST - counted_checks["n"]
    user, attempts, _tokens = _state(user_id, email)
    assert user.failed_logins == BURST  # every attempt counted, none lost
    assert attempts == counted_checks["n"] and user.locked_until is not None

    # once locked, the right password inside a burst does not sign in, and costs no check
    counted_checks["n"] = 0
    mixed = [factories.PASSWORD if i % 5 == 0 else "fout-fout-fout-fout" for i in range(40)]
    answers = _burst(app, email, mixed)
    assert answers == [429] * 40 and counted_checks["n"] == 0
    user, _attempts, tokens = _state(user_id, email)
    assert tokens == 0 and user.failed_logins == BURST + 40


@pytest.mark.slow
def test_control_without_the_row_lock_the_checks_race(app, backend, counted_checks):
    """The control case: with the lock off, parallel attempts all read "fewer than five
    failures" and each checks the password; the ORM's counter loses updates."""
    _postgresql_only(backend)
    email, user_id = _account()
    app.config["LOGIN_LOCKING"] = False
    try:
        _burst(app, email, ["fout-fout-fout-fout"] * BURST)
    finally:
        app.config["LOGIN_LOCKING"] = True
    user, _attempts, _tokens = _state(user_id, email)
    print(f"without the lock: {counted_checks['n']} checks, {user.failed_logins} of {BURST} failures counted")
    assert counted_checks["n"] > app.config["LOGIN_MAX_FAILURES"] or user.failed_logins < BURST, (
        counted_checks["n"],
        user.failed_logins,
    )
