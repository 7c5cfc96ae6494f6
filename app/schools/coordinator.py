"""The school coordinator (issue 18 point 4): the school's own ICC/W&T coordinator.

Bound to one school, they invite and remove the school's teachers (the administrators'
invitation: an account without a password and a single-use link to choose one), keep the
school's classes per school year (name, groep, pupils: counts only), and see and cancel every
booking of the school (through the booking service). Every function takes the acting user
and checks ``app.auth.permissions``; they flush, the request commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth import permissions
from app.auth.models import Role, User
from app.auth.services import create_user, end_all_sessions, send_invitation, void_reset_tokens
from app.db import utcnow
from app.errors import DomainError, PermissionDeniedError
from app.extensions import db
from app.labels import parse_groep
from app.schools.models import School, SchoolClass
from app.timeutil import school_year_of

audit = logging.getLogger("app.audit")


def _deny() -> PermissionDeniedError:
    return PermissionDeniedError(_("Dit mag alleen de schoolcoördinator van deze school."))


def _own_school(actor: User) -> School:
    school = actor.school if permissions.is_school_coordinator(actor) else None
    if not permissions.can_manage_school(actor, school):
        raise _deny()
    return school


def school_coordinators(school_id: int | None) -> list[User]:
    """The active school coordinators of a school (they get copies of its booking mails)."""
    if school_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(User.school_id == school_id, User.active.is_(True), User.role == Role.SCHOOL_COORDINATOR)
            .order_by(User.id)
        )
    )


def school_years(now: datetime | None = None) -> list[int]:
    """The school years a coordinator keeps classes for: this one and the next."""
    this = school_year_of(now or utcnow())
    return [this, this + 1]


# ------------------------------------------------------------------ teachers


def school_teachers(actor: User) -> list[User]:
    school = _own_school(actor)
    return list(
        db.session.scalars(
            select(User)
            .where(User.school_id == school.id, User.role == Role.TEACHER)
            .order_by(User.active.desc(), User.name, User.email)
        )
    )


def invite_teacher(actor: User, email: str, name: str = "", locale: str = "nl") -> User:
    """A new teacher account of the coordinator's own school, and its invitation mail."""
    school = _own_school(actor)
    name = (name or "").strip()
    if len(name) > 200:
        raise DomainError(_("Een naam heeft hoogstens 200 tekens."), code="invalid_name", field="name")
    user = create_user(
        email=email,
        role=Role.TEACHER,
        password=None,
        region=school.region,
        school=school,
        name=name,
        locale=locale if locale in ("nl", "en") else "nl",
    )
    send_invitation(user, invited_by=actor)
    audit.info("account %s invited as teacher of school %s by school coordinator %s", user.id, school.id, actor.id)
    return user


def remove_teacher(actor: User, target: User) -> User:
    """A teacher leaves the school: the account is deactivated (its sessions end, its API keys and
    open links are revoked); its bookings stay the school's."""
    if not permissions.can_manage_school_teacher(actor, target):
        raise _deny()
    if target.active:
        now = utcnow()
        target.active = False
        end_all_sessions(target, now)
        void_reset_tokens(target, now)
        db.session.flush()
        audit.info("account %s (teacher) deactivated by school coordinator %s", target.id, actor.id)
    return target


# ------------------------------------------------------------------ classes


@dataclass(frozen=True)
class ClassInput:
    school_year: int
    name: str
    groep: str
    pupils: int


def classes_of(school_id: int, school_year: int) -> list[SchoolClass]:
    return list(
        db.session.scalars(
            select(SchoolClass)
            .where(SchoolClass.school_id == school_id, SchoolClass.school_year == school_year)
            .order_by(SchoolClass.groep_min, SchoolClass.name)
        )
    )


def school_classes(actor: User, school_year: int) -> list[SchoolClass]:
    return classes_of(_own_school(actor).id, school_year)


def bookable_classes(actor: User, now: datetime | None = None) -> list[SchoolClass]:
    """The classes the booking form offers a teacher or school coordinator: their own school's,
    of this school year."""
    if not (permissions.is_teacher(actor) or permissions.is_school_coordinator(actor)) or actor.school_id is None:
        return []
    return classes_of(actor.school_id, school_year_of(now or utcnow()))


def add_class(actor: User, data: ClassInput, now: datetime | None = None) -> SchoolClass:
    school = _own_school(actor)
    if data.school_year not in school_years(now):
        raise DomainError(_("Kies dit schooljaar of het volgende."), code="invalid_school_year", field="school_year")
    name = " ".join(str(data.name or "").split())
    if not name or len(name) > 40 or not name.isprintable():
        raise DomainError(
            _("Geef de klas een korte naam (hoogstens 40 tekens), bijvoorbeeld 7A."), code="invalid_name", field="name"
        )
    try:
        groep_min, groep_max = parse_groep(data.groep)
    except (TypeError, ValueError):
        raise DomainError(_("Kies een groep."), code="invalid_groep", field="groep") from None
    if not isinstance(data.pupils, int) or not 1 <= data.pupils <= 40:
        raise DomainError(_("Tussen 1 en 40."), code="invalid_pupils", field="pupils")
    taken = db.session.scalar(
        select(SchoolClass.id).where(
            SchoolClass.school_id == school.id, SchoolClass.school_year == data.school_year, SchoolClass.name == name
        )
    )
    if taken is not None:
        raise DomainError(
            _("Deze school heeft dit schooljaar al een klas met deze naam."), code="class_name_taken", field="name"
        )
    school_class = SchoolClass(
        school_id=school.id,
        school_year=data.school_year,
        name=name,
        groep_min=groep_min,
        groep_max=groep_max,
        pupils=data.pupils,
    )
    db.session.add(school_class)
    db.session.flush()
    audit.info("class %s (%s) added to school %s by account %s", school_class.id, name, school.id, actor.id)
    return school_class


def remove_class(actor: User, school_class: SchoolClass) -> None:
    """Bookings name their class by its name, so removing a class changes no booking."""
    if not permissions.can_manage_school_class(actor, school_class):
        raise _deny()
    db.session.delete(school_class)
    db.session.flush()


# ------------------------------------------------------------------ bookings


def school_bookings(actor: User) -> list:
    """Every booking of the coordinator's school, by the session's start."""
    from app.booking.models import Booking
    from app.labs.models import Session

    school = _own_school(actor)
    return list(
        db.session.scalars(
            select(Booking)
            .join(Session, Booking.session_id == Session.id)
            .where(Booking.school_id == school.id)
            .order_by(Session.starts_at, Booking.id)
        )
    )
