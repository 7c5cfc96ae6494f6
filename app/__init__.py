"""The techlab booking platform: application factory."""
from __future__ import annotations

import os
import sqlite3
from importlib import import_module

from flask import Flask, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import load_config
from app.db import render_migration_item
from app.extensions import babel, csrf, db, login_manager, migrate

BLUEPRINTS = [
    "app.main.views",
    "app.auth.views",
    "app.catalogue.views",
    "app.booking.views",
    "app.booking.calendar_views",
    "app.booking.fairness_views",
    "app.labs.views",
    "app.schools.views",
    "app.transport.views",
    "app.reporting.views",
    "app.api",
]

CLI_GROUPS = [
    ("app.auth.cli", "users_cli"),
    ("app.schools.cli", "schools_cli"),
    ("app.demo.cli", "demo_cli"),
    ("app.scheduler", "scheduler_cli"),
]


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if config:
        app.config.update(config)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True, compare_type=True,
                     render_item=render_migration_item)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Europe/Amsterdam")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    import_module("app.mail")  # registers the after-commit outbox
    import_module("app.transport.hooks")  # re-plans buses after a commit that changed bookings
    import_module("app.models")

    from app.errors import register_error_handlers
    from app.web import register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)

    for path in BLUEPRINTS:
        try:
            module = import_module(path)
        except ModuleNotFoundError as exc:  # an area that has no pages yet
            if exc.name != path:
                raise
            continue
        app.register_blueprint(module.bp)

    for path, name in CLI_GROUPS:
        app.cli.add_command(getattr(import_module(path), name))

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        return resp

    return app


def select_locale() -> str:
    if not has_request_context():
        return "nl"
    lang = request.args.get("lang") or session.get("lang")
    if not lang and current_user and getattr(current_user, "is_authenticated", False):
        lang = current_user.locale
    return lang if lang in ("nl", "en") else "nl"


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """SQLite: foreign keys on, WAL, wait for locks; transactions begin as we say."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """SQLite: take the write lock first (BEGIN IMMEDIATE).

    SQLite has one writer at a time. A deferred transaction that reads and then
    writes can fail when another writer got in between; taking the write lock at
    the start makes every unit of work see the latest committed state and write
    without surprises — the SQLite form of "lock, re-check, write".
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
