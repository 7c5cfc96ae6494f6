"""Preparation material of an offer: files a coordinator adds for the teacher (a worksheet,
a letter to the parents), shown on the offer page and sent with the part-1 reminder.

Stored safely: only a few document and image types, recognised by their first bytes (not
by the name or the browser's word), at most MATERIAL_MAX_BYTES each and MAX_PER_OFFER per
offer; kept outside static/ under the instance folder with a random name (the name the
coordinator gave is only shown, never used as a path); served only to signed-in users who
may see the offer, always as an attachment.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth import permissions
from app.db import UTCDateTime, utcnow
from app.errors import DomainError
from app.extensions import db
from app.labs.models import Offer

MAX_PER_OFFER = 10
DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # within the upload body limit (MAX_CSV_UPLOAD_BYTES)

# extension -> (content type, test on the first bytes)
_ZIP = b"PK\x03\x04"
KINDS = {
    "pdf": ("application/pdf", lambda head: head.startswith(b"%PDF-")),
    "png": ("image/png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", lambda h: h.startswith(_ZIP)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", lambda h: h.startswith(_ZIP)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", lambda h: h.startswith(_ZIP)),
    "odt": ("application/vnd.oasis.opendocument.text", lambda h: h.startswith(_ZIP)),
    "odp": ("application/vnd.oasis.opendocument.presentation", lambda h: h.startswith(_ZIP)),
}


class MaterialError(DomainError):
    code = "material"
    status = 422


class OfferMaterial(db.Model):
    __tablename__ = "offer_materials"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(120))  # as shown and offered for download
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)  # random, under MATERIALS_DIR
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    offer: Mapped[Offer] = relationship()


def storage_dir() -> Path:
    path = Path(current_app.config.get("MATERIALS_DIR") or os.path.join(current_app.instance_path, "materials"))
    path.mkdir(parents=True, exist_ok=True, mode=0o750)
    return path


def max_bytes() -> int:
    """The largest file: MATERIAL_MAX_BYTES, and always less than the upload body limit (room for the form)."""
    cfg = current_app.config
    return min(int(cfg.get("MATERIAL_MAX_BYTES") or DEFAULT_MAX_BYTES), int(cfg["MAX_CSV_UPLOAD_BYTES"]) - 64 * 1024)


def clean_filename(name: str) -> str:
    """The name to show: the last path part, printable characters only, at most 120 long."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + dot + ext[:8]) if dot else name[:120]
    return name or "materiaal"


def materials_of(offer_id: int) -> list[OfferMaterial]:
    return list(
        db.session.scalars(
            select(OfferMaterial)
            .where(OfferMaterial.offer_id == offer_id)
            .order_by(OfferMaterial.created_at, OfferMaterial.id)
        )
    )


def add_material(actor, offer: Offer, filename: str, stream) -> OfferMaterial:
    """Check and store one uploaded file for the offer; flushes, the caller commits.
    The file on disk is removed again when the caller rolls back (see ``discard``)."""
    if not permissions.can_manage_offer(actor, offer):
        raise MaterialError(_("U mag dit aanbod niet wijzigen."), code="forbidden")
    shown = clean_filename(filename)
    ext = shown.rsplit(".", 1)[-1].lower() if "." in shown else ""
    if ext not in KINDS:
        raise MaterialError(
            _(
                "Dit soort bestand kan niet. Kies een pdf, Word-, PowerPoint-, Excel- of "
                "OpenDocument-bestand, of een afbeelding (png, jpg)."
            ),
            field="file",
        )
    if len(materials_of(offer.id)) >= MAX_PER_OFFER:
        raise MaterialError(_("Een aanbod heeft hoogstens %(n)s bestanden.", n=MAX_PER_OFFER), field="file")
    limit = max_bytes()
    data = stream.read(limit + 1)
    if not data:
        raise MaterialError(_("Het bestand is leeg."), field="file")
    if len(data) > limit:
        raise MaterialError(_("Het bestand is te groot (hoogstens %(kb)s KB).", kb=limit // 1024), field="file")
    content_type, looks_right = KINDS[ext]
    if not looks_right(data[:16]):
        raise MaterialError(_("De inhoud van het bestand past niet bij de naam (.%(ext)s).", ext=ext), field="file")
    stored = f"{secrets.token_hex(16)}.{ext}"
    target = storage_dir() / stored
    with open(target, "xb") as fh:  # never overwrites
        fh.write(data)
    material = OfferMaterial(
        offer_id=offer.id, filename=shown, stored_name=stored, content_type=content_type, size_bytes=len(data)
    )
    db.session.add(material)
    db.session.flush()
    return material


def path_of(material: OfferMaterial) -> Path:
    """The file on disk: always inside the storage folder (a stored name is never a path)."""
    base = storage_dir().resolve()
    path = (base / material.stored_name).resolve()
    if path.parent != base:
        raise FileNotFoundError(material.stored_name)
    return path


def delete_material(actor, material: OfferMaterial) -> None:
    if not permissions.can_manage_offer(actor, material.offer):
        raise MaterialError(_("U mag dit aanbod niet wijzigen."), code="forbidden")
    db.session.delete(material)
    db.session.flush()


def discard(material: OfferMaterial | None) -> None:
    """Remove a stored file whose row is gone (after a delete's commit, or an add's rollback)."""
    if material is None:
        return
    try:
        path_of(material).unlink(missing_ok=True)
    except FileNotFoundError:
        pass


def attachments_for(offer_id: int, budget: int = 8 * 1024 * 1024):
    """The offer's files for a mail, as long as they fit the budget together; (attached, left out)."""
    attached, left = [], []
    used = 0
    for m in materials_of(offer_id):
        try:
            data = path_of(m).read_bytes()
        except OSError:
            left.append(m)
            continue
        if used + len(data) > budget:
            left.append(m)
            continue
        used += len(data)
        attached.append((m, data))
    return attached, left
