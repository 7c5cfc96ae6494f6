"""The catalogue teachers search: offers, their sessions with places left, venues."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.routing import BuildError

from app.auth import permissions
from app.catalogue.forms import OfferFilterForm
from app.catalogue.services import OfferFilters, offer_sessions, school_distances, search_offers
from app.db import utcnow
from app.extensions import db
from app.labs.models import Offer, OfferKind, Venue, World
from app.web import int_arg, load_or_404

bp = Blueprint("catalogue", __name__, template_folder="templates", url_prefix="/aanbod")


def _viewer():
    return current_user if current_user.is_authenticated else None


def _region_id():
    user = _viewer()
    if user is None or permissions.is_admin(user):
        return int_arg("region") if request.args.get("region") else None
    return user.region_id


def _can_see_offer(user, offer: Offer) -> bool:
    if offer.published:
        return user is None or permissions.is_admin(user) or offer.region_id == user.region_id
    return permissions.can_manage_offer(user, offer) or (
        permissions.is_programme_leader(user) and permissions.same_region(user, offer)
    )


@bp.get("/")
def offers():
    region_id = _region_id()
    venues = db.session.scalars(
        select(Venue)
        .where(Venue.active.is_(True), *([Venue.region_id == region_id] if region_id else []))
        .order_by(Venue.name)
    ).all()
    form = OfferFilterForm(request.args)
    form.set_choices(venues)
    f = _filters(form)
    page = search_offers(_viewer(), region_id, f, utcnow(), page=int_arg("page", 1, lo=1, hi=10_000))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("catalogue/offers.html", form=form, page=page, args=args, book_url=book_url, groep=f.groep)


def _filters(form: OfferFilterForm) -> OfferFilters:
    """The catalogue's filters from the query string: one bad filter does not drop the others
    (the bad one is left out, its error shown on its field)."""
    form.validate()
    ok = {name: not fld.errors for name, fld in form._fields.items()}

    def value(name, convert=lambda v: v):
        data = form[name].data
        return convert(data) if ok[name] and data not in (None, "") else None

    return OfferFilters(
        groep=value("groep", int),
        world=value("world", World),
        kind=value("kind", OfferKind),
        venue_id=value("venue", int),
        date_from=value("date_from"),
        date_to=value("date_to"),
        only_available=bool(ok["only_available"] and form.only_available.data),
        bus_only=bool(ok["bus_only"] and form.bus_only.data),
        max_km=value("max_km", float),
        q=(value("q") or "").strip()[:100],
        sort=value("sort") or "",
    )


def book_url(session_id: int | None = None, offer_id: int | None = None) -> str | None:
    """The booking form's address, when the booking pages are there; the groep of the
    catalogue filter (?groep=7) goes along, so the form starts with it."""
    from flask import url_for

    groep = request.args.get("groep") if request.args.get("groep", "").isdigit() else None
    try:
        if offer_id is not None:
            return url_for("booking.new_series", offer_id=offer_id, groep=groep)
        return url_for("booking.new", session_id=session_id, groep=groep)
    except BuildError:
        return None


@bp.get("/<int:offer_id>")
def offer(offer_id: int):
    user = _viewer()
    offer = db.session.get(Offer, offer_id)
    if offer is None or not _can_see_offer(user, offer):
        abort(404)
    from app.labs.materials import materials_of

    teacher_school = permissions.is_teacher(user) and offer.venue_id
    return render_template(
        "catalogue/offer.html",
        offer=offer,
        grouped=offer_sessions(offer, utcnow()),
        distance=school_distances(user.school, {offer.venue_id}, user.region.road_factor).get(offer.venue_id)
        if teacher_school
        else None,
        book_url=book_url,
        can_book=permissions.is_teacher(user),
        materials=materials_of(offer.id),
    )


@bp.get("/<int:offer_id>/materiaal/<int:material_id>")
@login_required
def material(offer_id: int, material_id: int):
    """A file of preparation material: only for signed-in users who may see the offer, always
    as a download (never shown inline by the browser), from the instance folder."""
    from flask import send_file

    m, path = _material_file(offer_id, material_id)
    resp = send_file(path, mimetype=m.content_type, as_attachment=True, download_name=m.filename, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _material_file(offer_id: int, material_id: int):
    """The material and its stored file, or 404 (an offer the user may not see, a file that is gone)."""
    from app.labs.materials import OfferMaterial, path_of

    offer = db.session.get(Offer, offer_id)
    if offer is None or not _can_see_offer(current_user, offer):
        abort(404)
    m = db.session.get(OfferMaterial, material_id)
    if m is None or m.offer_id != offer.id:
        abort(404)
    try:
        path = path_of(m)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    return m, path


@bp.get("/locaties")
def venues():
    region_id = _region_id()
    stmt = select(Venue).where(Venue.active.is_(True)).order_by(Venue.name)
    if region_id:
        stmt = stmt.where(Venue.region_id == region_id)
    return render_template("catalogue/venues.html", venues=db.session.scalars(stmt).all())


@bp.get("/locaties/<int:venue_id>")
def venue(venue_id: int):
    user = _viewer()
    if user is not None:
        venue = load_or_404(Venue, venue_id, lambda u, v: True)
    else:
        venue = db.session.get(Venue, venue_id) or abort(404)
    offers = db.session.scalars(
        select(Offer).where(Offer.venue_id == venue.id, Offer.published.is_(True)).order_by(Offer.title)
    ).all()
    return render_template("catalogue/venue.html", venue=venue, offers=offers)
