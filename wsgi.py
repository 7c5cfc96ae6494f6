"""WSGI entry point: ``gunicorn wsgi:app``. No scheduler runs in web processes."""

from app import create_app

app = create_app()
