"""The administrator's page of the outbox: dead letters and waiting entries, retry or discard."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.auth import permissions
from app.outbox import services
from app.outbox.models import OutboxStatus
from app.web import attempt

bp = Blueprint("outbox", __name__, template_folder="templates", url_prefix="/regiobeheer/wachtrij")


@bp.get("/")
@login_required
def index():
    if not permissions.is_admin(current_user):
        abort(403)
    return render_template(
        "outbox/index.html",
        stats=services.queue_stats(),
        dead=services.entries(OutboxStatus.DEAD),
        pending=services.entries(OutboxStatus.PENDING),
        form=FlaskForm(),
    )


@bp.post("/<int:entry_id>/<action>")
@login_required
def act(entry_id: int, action: str):
    if not permissions.is_admin(current_user):
        abort(403)
    actions = {
        "opnieuw": (services.retry_entry, _("Het bericht wordt opnieuw verstuurd.")),
        "weggooien": (services.discard_entry, _("Het bericht is weggegooid.")),
    }
    if action not in actions:
        abort(404)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    call, message = actions[action]
    attempt(lambda: call(current_user, entry_id), message)
    return redirect(url_for("outbox.index"))
