"""The reset page does the same work, and takes the same time, for known and unknown addresses."""

from __future__ import annotations

import statistics
import time

import pytest
from flask import template_rendered
from sqlalchemy import event

from app.extensions import db
from tests import factories


def _teacher():
    user = factories.teacher(factories.school(factories.region()))
    db.session.commit()
    return user


def request_work(app, client, path: str, email: str, addr: str) -> dict:
    """What one "mail me a link" request (a reset here, a sign-in link in test_email_link) does:
    templates rendered, SQL statements by kind."""
    rendered: list[str] = []
    statements: dict[str, int] = {}

    def on_render(sender, template, context, **extra):
        rendered.append(template.name)

    def on_sql(conn, cursor, statement, parameters, context, executemany):
        kind = statement.lstrip().split(None, 1)[0].upper()
        if kind in ("SELECT", "INSERT", "UPDATE", "DELETE"):  # not the transaction's own BEGIN/COMMIT
            statements[kind] = statements.get(kind, 0) + 1

    event.listen(db.engine, "before_cursor_execute", on_sql)
    try:
        with template_rendered.connected_to(on_render, app):
            resp = client.post(path, data={"email": email}, environ_base={"REMOTE_ADDR": addr})
    finally:
        event.remove(db.engine, "before_cursor_execute", on_sql)
    assert resp.status_code == 302
    return {"mail_templates": [n for n in rendered if "/mail/" in n], "sql": statements}


def test_known_and_unknown_addresses_do_the_same_work(client, app):
    user = _teacher()
    known = request_work(app, client, "/wachtwoord-vergeten", user.email, "10.1.0.1")
    unknown = request_work(app, client, "/wachtwoord-vergeten", "niemand@example.org", "10.1.0.2")
    assert known["mail_templates"] == unknown["mail_templates"] == ["auth/mail/password_reset.txt"]
    # the same statements, but for the row that stores the real link and its mail's outbox row
    extra = {k: known["sql"].get(k, 0) - unknown["sql"].get(k, 0) for k in set(known["sql"]) | set(unknown["sql"])}
    assert {k: v for k, v in extra.items() if v} in ({}, {"INSERT": 2}), (known["sql"], unknown["sql"])


def test_no_mail_server_is_spoken_to_in_the_request(client, app, mailbox):
    user = _teacher()
    client.post("/wachtwoord-vergeten", data={"email": user.email})
    assert not mailbox  # the mail is an outbox row, delivered by the worker


@pytest.mark.slow
def test_the_answer_takes_about_the_same_time(client, app):
    """A generous ratio of medians (the machine is shared); the work test above is the real check."""
    user = _teacher()
    app.config.update(PASSWORD_RESET_MAX_PER_HOUR=1000, MAIL_BACKEND="null")
    try:
        times = {"known": [], "unknown": []}
        for i in range(9):
            for kind, email in (("known", user.email), ("unknown", f"niemand{i}@example.org")):
                started = time.perf_counter()
                resp = client.post(
                    "/wachtwoord-vergeten", data={"email": email}, environ_base={"REMOTE_ADDR": f"10.2.{i}.{len(kind)}"}
                )
                times[kind].append(time.perf_counter() - started)
                assert resp.status_code == 302
    finally:
        app.config.update(PASSWORD_RESET_MAX_PER_HOUR=3, MAIL_BACKEND="smtp")
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    print(f"reset page, median of 9: known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms")
    assert max(known, unknown) / min(known, unknown) < 2.5, (known, unknown)
