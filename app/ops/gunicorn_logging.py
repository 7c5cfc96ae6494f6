"""gunicorn's logger, writing its own lines and the access log as JSON lines.

Named in gunicorn.conf.py (``logger_class``). The access line carries the request id the
app put in the response header, so it can be matched with the app's own log lines.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from app.ops.logs import (
    REQUEST_ID_HEADER,
    JsonFormatter,
    TextFormatter,
    install_record_factory,
    redact_path,
    request_id_var,
)


class JsonLogger(Logger):
    json = True

    def setup(self, cfg):
        super().setup(cfg)
        install_record_factory()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(JsonFormatter() if self.json else TextFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = {k.lower(): v for k, v in (resp.headers or [])}
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        try:
            status = int(status)
        except (TypeError, ValueError):
            pass
        # the same rule as the app's request log: reset and invitation links, calendar feeds, ?token=
        path = redact_path(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD")
        token = request_id_var.set(headers.get(REQUEST_ID_HEADER.lower()))
        try:
            self.access_log.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "event": "access",
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(request_time.total_seconds() * 1000, 1),
                    "remote_addr": environ.get("REMOTE_ADDR"),
                    "bytes": getattr(resp, "sent", None),
                    "user_agent": (environ.get("HTTP_USER_AGENT") or "")[:200] or None,
                },
            )
        finally:
            request_id_var.reset(token)


class TextLogger(JsonLogger):
    json = False
