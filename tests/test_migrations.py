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
                ctx = MigrationContext.configure(
                    conn, opts={"compare_type": True, "render_item": render_migration_item}
                )
                diff = compare_metadata(ctx, db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            tables = set(inspect(db.engine).get_table_names())
            assert {"bookings", "sessions", "schools", "users"} <= tables
            db.engine.dispose()
    finally:
        drop()


def _schema_diff():
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_item": render_migration_item})
        return compare_metadata(ctx, db.metadata)


def _version():
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_every_migration_downgrades_to_base_and_upgrades_again(backend_name, tmp_path):
    from flask_migrate import downgrade

    url, drop = _fresh_url(backend_name, tmp_path)
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            head = _version()
            downgrade(revision="base")
            left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert left == set(), f"downgrade to base left tables behind: {sorted(left)}"
            upgrade()
            assert _version() == head
            assert _schema_diff() == []
            db.engine.dispose()
    finally:
        drop()


def test_migration_files_are_named_in_revision_order():
    """Each file's number is its place in the chain: 0001 first, every next file revises the one
    before it (so `ls migrations/versions` reads as the history)."""
    import re

    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    chain = {}
    for path in versions.glob("*.py"):
        text = path.read_text()
        rev = re.search(r"^revision = ['\"]([^'\"]+)['\"]", text, re.M).group(1)
        down = re.search(r"^down_revision = (?:['\"]([^'\"]+)['\"]|None)", text, re.M).group(1)
        assert path.stem == (rev if "_" in rev else f"{rev}_initial_schema"), (path.name, rev)
        chain[down] = path.stem
    ordered, down = [], None
    while down in chain:
        ordered.append(chain[down])
        down = re.sub(r"_initial_schema$", "", chain[down])
    assert len(ordered) == len(chain), "the migrations do not form one chain"
    numbers = [int(name.split("_", 1)[0]) for name in ordered]
    assert numbers == list(range(1, len(ordered) + 1)), ordered


@pytest.mark.parametrize("backend_name", ["sqlite"])
def test_a_database_migrated_before_the_rename_upgrades_without_change(backend_name, tmp_path):
    from sqlalchemy import text

    url, drop = _fresh_url(backend_name, tmp_path)
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            from flask_migrate import downgrade

            upgrade(revision="0008_buses")  # the last migration that was renamed
            with db.engine.begin() as conn:  # as a database migrated before the rename
                conn.execute(text("UPDATE alembic_version SET version_num = '0010_buses'"))
            upgrade()
            head = _version()
            downgrade(revision="0008_buses")  # the renamed id is where the old one was
            assert _version() == "0008_buses"
            upgrade()
            assert _version() == head
            assert _schema_diff() == []
            db.engine.dispose()
    finally:
        drop()
