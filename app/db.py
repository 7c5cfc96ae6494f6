"""Column types and helpers shared by all models."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Enum, types


class UTCDateTime(types.TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored
    as naive UTC and made aware again when loaded. Naive datetimes are refused on
    the way in: every timestamp in this code base is aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# The largest id a table holds (PostgreSQL `integer`). A number beyond it in a URL or a
# request names no object: it is answered as such (404/422), never sent to the database,
# where PostgreSQL would refuse it as out of range.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A string enum stored as VARCHAR with a named CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls) + 4,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def render_migration_item(type_, obj, autogen_context):
    """Alembic: write our column types as plain SQLAlchemy types in migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
