"""An app of its own with probe handlers (routes cannot be added to the shared test app once it
has served a request), on the same database as the test's app."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def probe_client(app, *blueprints):
    from app import create_app
    from app.extensions import db

    probe = create_app(
        {
            **{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY")},
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
        }
    )
    for bp in blueprints:
        probe.register_blueprint(bp)
    try:
        yield probe.test_client()
    finally:
        with probe.app_context():
            db.session.remove()
            db.engine.dispose()
