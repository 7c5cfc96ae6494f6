"""Scheduled jobs of the transport area: plain functions of `now`, safe to run twice."""

from __future__ import annotations

from datetime import datetime

from app.transport import services


def freeze_plans(now: datetime) -> int:
    """Freeze (order) the bus plans of sessions within TRANSPORT_FREEZE_DAYS days."""
    return services.freeze_due_plans(now)


def replan(now: datetime) -> int:
    """Re-plan stale plans and any session whose bookings changed after its plan (a missed re-plan)."""
    ids = services.sessions_to_replan(now)
    return sum(1 for r in services.replan_sessions(ids, now).values() if r == "planned")


JOBS = [
    {"id": "transport.freeze_plans", "func": freeze_plans, "trigger": "cron", "minute": "5"},
    {"id": "transport.replan", "func": replan, "trigger": "cron", "minute": "*/10"},
]
