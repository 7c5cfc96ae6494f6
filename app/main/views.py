"""Start page, language switch, privacy and accessibility statements, health."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session
from flask_login import current_user
from app.auth import permissions
from app.web import safe_next

bp = Blueprint("main", __name__, template_folder="templates")


@bp.get("/")
def index():
    home = None
    if permissions.is_teacher(current_user if current_user.is_authenticated else None):
        from app.booking.forms import ReasonForm
        from app.booking.home import teacher_home
        from app.db import utcnow

        home = teacher_home(current_user.school_id, utcnow())
        return render_template("main/index.html", home=home, answer_form=ReasonForm())
    return render_template("main/index.html", home=home)


@bp.post("/taal/<lang>")
def set_language(lang: str):
    """The language switch: a POST (a button in the layout, CSRF-protected), since it changes
    the session and a signed-in account's stored language; a GET changes nothing (405)."""
    if lang in ("nl", "en"):
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang  # the unit of work commits with the redirect
    return redirect(safe_next(request.form.get("next") or request.args.get("next"), "/"))


@bp.get("/privacy")
def privacy():
    from flask import current_app

    cfg = current_app.config
    return render_template(
        "main/privacy.html",
        retention_days=cfg["RETENTION_DAYS"],
        reset_minutes=cfg["PASSWORD_RESET_SECONDS"] // 60,
        login_window_minutes=max(1, cfg["LOGIN_WINDOW_SECONDS"] // 60),
    )


@bp.get("/toegankelijkheid")
def accessibility():
    return render_template("main/accessibility.html")


@bp.get("/health")
def health():
    """Liveness of this web node for a load balancer; ?full=1 also fails on a dead scheduler."""
    from app.ops.health import health_report

    report, status = health_report(full=request.args.get("full") in ("1", "true", "yes"))
    resp = jsonify(report)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp
