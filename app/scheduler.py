"""The scheduler process: `flask --app wsgi scheduler run`.

Web processes never run jobs. Run one scheduler process per deployment; even if two
run by mistake, every job claims its run in the database first (app.jobs), so each
run happens once.
"""
from __future__ import annotations

from flask.cli import AppGroup

scheduler_cli = AppGroup("scheduler", help="Scheduled jobs.")
