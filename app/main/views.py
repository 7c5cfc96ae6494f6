"""Start page, language switch, privacy and accessibility statements, health."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text

from app.extensions import db
from app.web import safe_next

bp = Blueprint("main", __name__, template_folder="templates")


@bp.get("/")
def index():
    return render_template("main/index.html")


@bp.get("/taal/<lang>")
def set_language(lang: str):
    if lang in ("nl", "en"):
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.args.get("next"), "/"))


@bp.get("/privacy")
def privacy():
    from flask import current_app

    cfg = current_app.config
    return render_template("main/privacy.html", retention_days=cfg["RETENTION_DAYS"],
                           reset_minutes=cfg["PASSWORD_RESET_SECONDS"] // 60,
                           login_window_minutes=max(1, cfg["LOGIN_WINDOW_SECONDS"] // 60))


@bp.get("/toegankelijkheid")
def accessibility():
    return render_template("main/accessibility.html")


@bp.get("/health")
def health():
    try:
        db.session.execute(text("SELECT 1"))
        ok = True
    except Exception:  # noqa: BLE001 - the answer is the health report
        db.session.rollback()
        ok = False
    alive = None
    if ok:
        from app.scheduler import scheduler_alive

        alive = scheduler_alive()
    return jsonify({"status": "ok" if ok else "error", "database": ok, "scheduler": alive}), (200 if ok else 503)
