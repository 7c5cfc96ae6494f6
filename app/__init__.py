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
    "app.auth.account_views",
    "app.auth.oidc_views",
    "app.catalogue.views",
    "app.booking.views",
    "app.booking.calendar_views",
    "app.booking.fairness_views",
    "app.labs.views",
    "app.desk.views",
    "app.schools.coordinator_views",
    "app.transport.views",
    "app.reporting.views",
    "app.admin.views",
    "app.outbox.views",
    "app.api",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)

CLI_GROUPS = [
    ("app.auth.cli", "users_cli"),
    ("app.schools.cli", "schools_cli"),
    ("app.demo.cli", "demo_cli"),
    ("app.scheduler", "scheduler_cli"),
    ("app.outbox.cli", "outbox_cli"),
    ("app.ops.cli", "db_backup_cmd"),
    ("app.ops.cli", "db_restore_cmd"),
]

__version__ = "1.0.0.dev0"


def create_app(config: dict | None = None) -> Flask:
    from app.unit_of_work import UnitOfWorkFlask

    app = UnitOfWorkFlask(__name__, instance_relative_config=True)
    from app.inputs import JSONProvider, install_form_rules

    app.json = JSONProvider(app)  # JSON bodies: nesting depth limited before parsing
    install_form_rules()  # one-line form fields: names normalised, no CR/LF
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path))
    if config:
        app.config.update(config)
    app.config["APP_VERSION"] = app.config.get("APP_VERSION") or __version__

    from app.ops.logs import configure_logging

    configure_logging(app)
    if app.config["PROXY_COUNT"] > 0:
        # behind a reverse proxy / load balancer: trust that many hops of X-Forwarded-For/-Proto/-Host,
        # so the per-address sign-in limits see the client, not the proxy
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Europe/Amsterdam")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    import_module("app.models")

    from app.errors import register_error_handlers
    from app.web import register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)
    from app.web import IdConverter, limit_request_body, refuse_deep_json, refuse_nul_characters

    app.url_map.converters["int"] = IdConverter  # before the routes are added
    # the body limit goes first, before CSRFProtect (registered above) reads the form
    app.before_request_funcs.setdefault(None, []).insert(0, limit_request_body)
    app.before_request(refuse_deep_json)
    app.before_request(refuse_nul_characters)

    for path in BLUEPRINTS:
        app.register_blueprint(import_module(path).bp)

    for path, name in CLI_GROUPS:
        app.cli.add_command(getattr(import_module(path), name))

    @app.after_request
    def security_headers(resp):
        """OWASP ASVS 14.4: headers on every answer; a CSP without inline script or style."""
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        resp.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("HSTS_SECONDS"):
            resp.headers.setdefault(
                "Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
            )
        if (
            resp.mimetype in ("text/html", "application/json", "application/problem+json")
            and has_request_context()
            and (
                request.path.startswith("/api/")
                or current_user.is_authenticated
                or request.endpoint in ("auth.reset_password", "auth.accept_invitation", "auth.login_link")
            )
        ):
            # personal pages are not kept in shared caches or the browser's history cache
            resp.headers.setdefault("Cache-Control", "no-store")
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
