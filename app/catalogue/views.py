"""The catalogue teachers search: offers, their sessions with places left, venues."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
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
    return permissions.can_manage_offer(user, offer) or (permissions.is_programme_leader(user)
                                                         and permissions.same_region(user, offer))


@bp.get("/")
def offers():
    region_id = _region_id()
    venues = db.session.scalars(select(Venue).where(Venue.active.is_(True), *(
        [Venue.region_id == region_id] if region_id else [])).order_by(Venue.name)).all()
    form = OfferFilterForm(request.args)
    form.set_choices(venues)
    valid = form.validate()
    f = OfferFilters()
    if valid:
        f = OfferFilters(
            groep=int(form.groep.data) if form.groep.data else None,
            world=World(form.world.data) if form.world.data else None,
            kind=OfferKind(form.kind.data) if form.kind.data else None,
            venue_id=int(form.venue.data) if form.venue.data else None,
            date_from=form.date_from.data, date_to=form.date_to.data,
            only_available=form.only_available.data, bus_only=form.bus_only.data,
            max_km=float(form.max_km.data) if form.max_km.data is not None else None,
            q=(form.q.data or "").strip()[:100], sort=form.sort.data or "",
        )
    page = search_offers(_viewer(), region_id, f, utcnow(), page=int_arg("page", 1, lo=1, hi=10_000))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("catalogue/offers.html", form=form, page=page, args=args, book_url=book_url)


def book_url(session_id: int | None = None, offer_id: int | None = None) -> str | None:
    """The booking form's address, when the booking pages are there."""
    from flask import url_for

    try:
        if offer_id is not None:
            return url_for("booking.new_series", offer_id=offer_id)
        return url_for("booking.new", session_id=session_id)
    except BuildError:
        return None


@bp.get("/<int:offer_id>")
def offer(offer_id: int):
    user = _viewer()
    offer = db.session.get(Offer, offer_id)
    if offer is None or not _can_see_offer(user, offer):
        abort(404)
    now = utcnow()
    grouped = offer_sessions(offer, now)
    distance = None
    if permissions.is_teacher(user) and offer.venue_id:
        distance = school_distances(user.school, {offer.venue_id}, user.region.road_factor).get(offer.venue_id)
    return render_template("catalogue/offer.html", offer=offer, grouped=grouped, distance=distance,
                           book_url=book_url, can_book=permissions.is_teacher(user))


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
    offers = db.session.scalars(select(Offer).where(Offer.venue_id == venue.id, Offer.published.is_(True))
                                .order_by(Offer.title)).all()
    return render_template("catalogue/venue.html", venue=venue, offers=offers)
