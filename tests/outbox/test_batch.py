"""outbox.batched(): the rows of a block in one INSERT, with the meaning of one INSERT each."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.outbox.models import OutboxEntry, OutboxStatus
from app.outbox.services import batched, enqueue, enqueue_replan


def _inserts(statements):
    return [s for s in statements if s.lstrip().upper().startswith("INSERT INTO OUTBOX")]


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def on_exec(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_exec)
    yield seen
    event.remove(engine, "before_cursor_execute", on_exec)


def _rows():
    return [(e.kind, e.key, e.status) for e in db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]


def test_a_batch_is_one_insert_in_queued_order(app, statements):
    with batched():
        enqueue_replan(7)
        enqueue("mail", {"to": ["a@example.org"]}, "mail:one")
        with batched():  # nested: the same batch
            enqueue("mail", {"to": ["b@example.org"]}, "mail:two")
        assert _inserts(statements) == []  # nothing written before the block ends
    assert len(_inserts(statements)) == 1
    db.session.commit()
    assert _rows() == [
        ("replan", "replan:7", OutboxStatus.PENDING),
        ("mail", "mail:one", OutboxStatus.PENDING),
        ("mail", "mail:two", OutboxStatus.PENDING),
    ]


def test_a_pending_replan_adds_nothing_and_a_taken_mail_key_is_refused(app):
    enqueue_replan(7)
    enqueue("mail", {}, "mail:one")
    db.session.commit()
    with batched():  # as without a batch: the pending re-plan coalesces
        enqueue_replan(7)
        enqueue("mail", {}, "mail:two")
    db.session.commit()
    assert [key for _, key, _ in _rows()] == ["replan:7", "mail:one", "mail:two"]
    with pytest.raises(IntegrityError):  # as without a batch: a mail key is unique
        with batched():
            enqueue_replan(8)
            enqueue("mail", {}, "mail:one")
    db.session.rollback()
    with pytest.raises(IntegrityError):  # the control: the same without a batch
        enqueue("mail", {}, "mail:one")
    db.session.rollback()
    assert [key for _, key, _ in _rows()] == ["replan:7", "mail:one", "mail:two"]


def test_an_exception_in_the_block_writes_nothing(app, statements):
    with pytest.raises(RuntimeError):
        with batched():
            enqueue("mail", {}, "mail:lost")
            raise RuntimeError("the change failed")
    assert _inserts(statements) == []
    enqueue("mail", {}, "mail:after")  # and the next write is not batched
    assert len(_inserts(statements)) == 1
    db.session.commit()
    assert [key for _, key, _ in _rows()] == ["mail:after"]
