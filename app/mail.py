"""Mail, written to the outbox in the unit of work that causes it, sent by the outbox worker.

``queue_mail`` adds a row to the ``outbox`` table in the current database transaction:
when the transaction commits the mail is durably queued, when it rolls back the mail is
gone with it, so no mail ever announces something that did not happen and none is lost
when the SMTP server is away. The worker (app.outbox.worker) builds and sends it with a
Message-ID derived from the row's idempotency key, retrying with backoff.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import smtplib
import sys
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app

from app.ops.logs import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger(__name__)
MSGID_DOMAIN = "techlab.localhost"


@dataclass
class Attachment:
    filename: str
    content: bytes
    maintype: str = "text"
    subtype: str = "calendar"
    params: dict = field(default_factory=lambda: {"method": "PUBLISH", "charset": "utf-8"})


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    # the request or job run that queued it, to find its log lines
    request_id: str | None = field(default_factory=current_request_id)

    def to_payload(self) -> dict:
        return {
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
            "attachments": [
                {
                    "filename": a.filename,
                    "content": base64.b64encode(a.content).decode("ascii"),
                    "maintype": a.maintype,
                    "subtype": a.subtype,
                    "params": a.params,
                }
                for a in self.attachments
            ],
        }

    @classmethod
    def from_payload(cls, payload: dict, request_id: str | None = None) -> "Mail":
        return cls(
            list(payload["to"]),
            payload["subject"],
            payload["body"],
            [
                Attachment(a["filename"], base64.b64decode(a["content"]), a["maintype"], a["subtype"], a["params"])
                for a in payload.get("attachments", [])
            ],
            request_id,
        )


def queue_mail(to: str | list[str], subject: str, body: str, attachments: list[Attachment] | None = None) -> None:
    """Queue a mail in the current unit of work (an outbox row; sent after the commit by the worker)."""
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [r for r in recipients if r]
    if not recipients:
        return
    from app.outbox.services import enqueue

    mail = Mail(recipients, subject, body, attachments or [])
    enqueue("mail", mail.to_payload(), f"mail:{uuid.uuid4().hex}", request_id=mail.request_id)


def message_id(key: str) -> str:
    """The Message-ID of the outbox entry ``key``: the same on every attempt, so a mail sent
    twice (a crash between sending and marking it done) is recognisably one mail."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{MSGID_DOMAIN}>"


def build_message(mail: Mail, sender: str, msg_id: str | None = None) -> EmailMessage:
    """The message; raises ValueError for what cannot be a mail (e.g. a line break in a header)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(mail.to)
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = msg_id or message_id(f"mail:{uuid.uuid4().hex}")
    if mail.request_id:
        msg[REQUEST_ID_HEADER] = mail.request_id
    msg.set_content(mail.body)
    for a in mail.attachments:
        msg.add_attachment(a.content, maintype=a.maintype, subtype=a.subtype, filename=a.filename, params=a.params)
    # rendering the headers is where a bad value shows: do it now, not halfway through a send
    msg.as_bytes()
    return msg


class Transport:
    """One connection for a batch of messages: SMTP, printed (console) or dropped (null)."""

    def __init__(self):
        self.cfg = current_app.config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "Transport":
        cfg = self.cfg
        if cfg["MAIL_BACKEND"] == "smtp":
            smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10)
            try:
                if cfg["MAIL_USE_TLS"]:
                    smtp.starttls()
                if cfg["MAIL_USERNAME"]:
                    smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        return self

    def send(self, msg: EmailMessage) -> None:
        if self.smtp is not None:
            self.smtp.send_message(msg)
        elif self.cfg["MAIL_BACKEND"] == "console":
            body = msg.get_body(("plain",))
            print(f"--- mail to {msg['To']}: {msg['Subject']}\n{body.get_content() if body else ''}", file=sys.stderr)

    def __exit__(self, *exc) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
