"""Finding a school the way a coordinator names it: by name (as the page's list offers it), by
"name — place (code)", or by its vestigingscode."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.schools.models import School

_CODE_AT_END = re.compile(r"\(([0-9A-Za-z]{4,6})\)\s*$")


def school_choice_label(school: School) -> str:
    """How the page lists a school to choose from; read back by ``find_school_by_name_or_code``."""
    return (
        f"{school.name} — {school.city} ({school.location_code})"
        if school.city
        else f"{school.name} ({school.location_code})"
    )


def find_school_by_name_or_code(region_id: int, text: str) -> list[School]:
    """The region's schools this text names: one when it is clear, several when the name is
    shared (the caller asks to choose), none when it names nothing."""
    text = " ".join((text or "").split())
    if not text:
        return []
    base = select(School).where(School.region_id == region_id)
    m = _CODE_AT_END.search(text)
    code = (m.group(1) if m else text).upper()
    if len(code) <= 6:
        by_code = db.session.scalars(base.where(School.location_code == code)).all()
        if by_code:
            return list(by_code)
    name = _CODE_AT_END.sub("", text).split(" — ")[0].strip().lower()
    exact = db.session.scalars(base.where(func.lower(School.name) == name).order_by(School.id)).all()
    if exact:
        return list(exact)
    return list(
        db.session.scalars(base.where(func.lower(School.name).like(f"%{name}%")).order_by(School.name).limit(10))
    )
