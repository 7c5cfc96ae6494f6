"""What a change of a session's riders means for its buses: a re-plan after the commit.

Every service that changes who rides to a session (a booking confirmed, cancelled, moved
or promoted; a bus declined; a session moved or cancelled) calls ``session_changed`` in
its own unit of work. That writes a ``replan`` entry to the outbox in the same
transaction; the outbox worker re-plans the session afterwards, outside the request and
its locks. Entries are coalesced per session: a burst of bookings plans once or a few times.
"""

from __future__ import annotations


def session_changed(session_id: int | None, *, moved: bool = False) -> None:
    """Queue a re-plan of the session's buses (``moved``: the session's own time, place or
    status changed, so even an unchanged set of riders needs new times)."""
    if session_id is None:
        return
    from app.outbox.services import enqueue_replan

    enqueue_replan(session_id, moved=moved)
