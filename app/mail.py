"""Mail, queued during a unit of work and sent only after it commits.

``queue_mail`` puts a message on the current database session's outbox. When the
session commits, the outbox is sent (over SMTP, or printed in development); when it
rolls back, the outbox is dropped. So no mail ever announces something that did not
happen.
"""
from __future__ import annotations

import logging
import smtplib
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from app.extensions import db
from app.ops.logs import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger(__name__)


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


def queue_mail(to: str | list[str], subject: str, body: str, attachments: list[Attachment] | None = None) -> None:
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [r for r in recipients if r]
    if not recipients:
        return
    outbox = db.session.info.setdefault("outbox", [])
    outbox.append(Mail(recipients, subject, body, attachments or []))


def build_message(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(mail.to)
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="techlab.localhost")
    if mail.request_id:
        msg[REQUEST_ID_HEADER] = mail.request_id
    msg.set_content(mail.body)
    for a in mail.attachments:
        msg.add_attachment(a.content, maintype=a.maintype, subtype=a.subtype, filename=a.filename, params=a.params)
    return msg


def send_mails(mails: list[Mail]) -> None:
    if not mails:
        return
    cfg = current_app.config
    messages = [build_message(m, cfg["MAIL_FROM"]) for m in mails]
    if cfg["MAIL_BACKEND"] == "console":
        for msg in messages:
            body = msg.get_body(("plain",))
            print(f"--- mail to {msg['To']}: {msg['Subject']}\n{body.get_content() if body else ''}", file=sys.stderr)
        return
    if cfg["MAIL_BACKEND"] == "null":
        return
    try:
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            for msg in messages:
                smtp.send_message(msg)
    except (OSError, smtplib.SMTPException):
        # the booking stands; a failed mail is logged for the operator, never a 500
        log.exception("sending %d mail(s) failed", len(messages))


@event.listens_for(OrmSession, "after_commit")
def _send_outbox(session: OrmSession) -> None:
    outbox = session.info.pop("outbox", None)
    if outbox:
        send_mails(outbox)


@event.listens_for(OrmSession, "after_soft_rollback")
def _drop_outbox(session: OrmSession, previous_transaction) -> None:
    if session.in_transaction():
        return
    session.info.pop("outbox", None)
