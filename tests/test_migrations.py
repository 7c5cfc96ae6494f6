"""The migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from app import create_app
from app.db import render_migration_item
from app.extensions import db

from tests import conftest


def _fresh_url(backend: str, tmp_path: Path) -> tuple[str, callable]:
    if backend == "sqlite":
        return "sqlite:///" + str(tmp_path / "migrated.sqlite3"), lambda: None
    conftest._pg_database_url()  # skips (or fails under CI) without PostgreSQL
    name = f"techlab_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with conftest._pg_admin_conn() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with conftest._pg_admin_conn() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return conftest._pg_state["url"].rsplit("/", 1)[0] + "/" + name, drop


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_migrations_match_models(backend_name, tmp_path):
    url, drop = _fresh_url(backend_name, tmp_path)
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_item": render_migration_item})
                diff = compare_metadata(ctx, db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            tables = set(inspect(db.engine).get_table_names())
            assert {"bookings", "sessions", "schools", "users"} <= tables
            db.engine.dispose()
    finally:
        drop()
