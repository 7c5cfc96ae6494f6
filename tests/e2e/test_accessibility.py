"""WCAG 2.1 AA: every page type, as the role that sees it, checked by axe-core in Chromium.

The test fails on any violation of impact "serious" or "critical" and lists them. Pages
are the demo region's (realistic content: long tables, charts, the map). To check a new
page, add one line to PAGES: a name, the role that opens it, and its path, in which
{placeholders} are filled from ``ids`` below; ``blank_submit=True`` submits the page's main
form empty so the page is checked as it is re-shown with error messages.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import NamedTuple

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.axe_check import axe_run, describe, serious
from tests.e2e.conftest import make_browser

pytestmark = pytest.mark.slow


class Page(NamedTuple):
    name: str
    role: str | None  # None: anonymous; else a key of ``ids["users"]``
    path: str
    blank_submit: bool = False
    fill: dict | None = None  # field id -> value ({placeholders} filled): fill the main form and submit it


PAGES = [
    # anonymous
    Page("start", None, "/"),
    Page("login", None, "/inloggen"),
    Page("login with errors", None, "/inloggen", blank_submit=True),
    Page("privacy", None, "/privacy"),
    Page("accessibility statement", None, "/toegankelijkheid"),
    Page("catalogue", None, "/aanbod/"),
    Page("catalogue offer", None, "/aanbod/{offer}"),
    Page("catalogue venues", None, "/aanbod/locaties"),
    Page("catalogue venue", None, "/aanbod/locaties/{venue}"),
    Page("error 404", None, "/bestaat-niet"),
    Page("forgot password", None, "/wachtwoord-vergeten"),
    Page("forgot password with errors", None, "/wachtwoord-vergeten", blank_submit=True),
    Page("sign-in link", None, "/inloglink"),
    Page("sign-in link with errors", None, "/inloglink", blank_submit=True),
    Page("sign-in link invalid", None, "/inloglink/niet-geldig"),
    # school coordinator
    Page("school bookings", "school_coordinator", "/mijn-school/boekingen"),
    Page("school classes", "school_coordinator", "/mijn-school/klassen"),
    Page("school classes with errors", "school_coordinator", "/mijn-school/klassen", blank_submit=True),
    Page("school teachers", "school_coordinator", "/mijn-school/leerkrachten"),
    Page("school teachers with errors", "school_coordinator", "/mijn-school/leerkrachten", blank_submit=True),
    Page(
        "booking form with the school's classes",
        "school_teacher",
        "/boekingen/nieuw?session_id={session}&klas={school_class}",
    ),
    # teacher
    Page("catalogue filtered, with distance", "teacher", "/aanbod/?groep=7&bus=1"),
    Page("booking form", "teacher", "/boekingen/nieuw?session_id={session}"),
    Page("booking form with errors", "teacher", "/boekingen/nieuw?session_id={session}", blank_submit=True),
    Page("series booking form", "teacher", "/boekingen/reeks?offer_id={series_offer}"),
    Page("series booking form, dates by hand", "teacher", "/boekingen/reeks?offer_id={series_offer}&zelf=1"),
    Page(
        "series booking form with errors",
        "teacher",
        "/boekingen/reeks?offer_id={series_offer}&zelf=1",
        blank_submit=True,
    ),
    Page("series booking form, proposal", "teacher", "/boekingen/reeks?offer_id={series_offer}&anker={series_anchor}"),
    Page("home with upcoming bookings (teacher)", "teacher", "/"),
    Page("my bookings", "teacher", "/boekingen/"),
    Page("booking detail", "teacher", "/boekingen/{booking}"),
    Page("booking detail with its bus", "bussed_teacher", "/boekingen/{bussed_booking}"),
    Page("cancel confirmation", "teacher", "/boekingen/{booking}/annuleren"),
    Page("change a booking", "teacher", "/boekingen/{booking}/wijzigen"),
    Page("change a booking with errors", "teacher", "/boekingen/{booking}/wijzigen", blank_submit=True),
    Page("calendar settings", "teacher", "/agenda/"),
    Page("my data", "teacher", "/mijn-account/"),
    Page("API keys", "teacher", "/mijn-account/api-sleutels"),
    Page("API keys with errors", "teacher", "/mijn-account/api-sleutels", blank_submit=True),
    Page("change password", "teacher", "/mijn-account/wachtwoord"),
    Page("change password with errors", "teacher", "/mijn-account/wachtwoord", blank_submit=True),
    Page("delete my account", "teacher", "/mijn-account/verwijderen"),
    Page("kits (teacher)", "teacher", "/beheer/leskisten"),
    Page("request round (teacher)", "teacher", "/aanvraagrondes/{round}"),
    Page("error 403", "teacher", "/beheer/"),
    # coordinator
    Page("workspace dashboard", "coordinator", "/beheer/"),
    Page("venue edit", "coordinator", "/beheer/locaties/{my_venue}"),
    Page("venue new with errors", "coordinator", "/beheer/locaties/nieuw", blank_submit=True),
    Page("offer edit", "coordinator", "/beheer/aanbod/{my_offer}"),
    Page("offer new", "coordinator", "/beheer/aanbod/nieuw"),
    Page("plan sessions", "coordinator", "/beheer/aanbod/{my_offer}/plannen"),
    Page("plan sessions with errors", "coordinator", "/beheer/aanbod/{my_offer}/plannen", blank_submit=True),
    Page("sessions of an offer", "coordinator", "/beheer/aanbod/{my_offer}/lessen"),
    Page("calendar week", "coordinator", "/beheer/agenda?date={day}"),
    Page("calendar month", "coordinator", "/beheer/agenda?view=month&date={day}"),
    Page("day sheet", "coordinator", "/beheer/dagoverzicht/{my_venue}/{day}"),
    Page("staff", "coordinator", "/beheer/medewerkers"),
    Page("kits", "coordinator", "/beheer/leskisten"),
    Page("roster", "coordinator", "/boekingen/les/{my_session}"),
    Page("desk: bookings", "coordinator", "/bureau/"),
    Page("desk: bookings filtered on one offer (bulk move offered)", "coordinator", "/bureau/?offer_id={my_offer}"),
    Page("desk: week grid", "coordinator", "/bureau/week?datum={day}"),
    Page("desk: message a day's schools", "coordinator", "/bureau/bericht?venue_id={msg_venue}&dag={msg_day}"),
    Page(
        "desk: message a day's schools with errors",
        "coordinator",
        "/bureau/bericht?venue_id={msg_venue}&dag={msg_day}",
        blank_submit=True,
    ),
    Page("desk: message a session's schools", "coordinator", "/bureau/bericht?session_id={msg_session}"),
    Page("requests awaiting approval", "coordinator", "/boekingen/aanvragen"),
    Page("bus plans of a day, with the route map", "coordinator", "/vervoer/?datum={bus_day}"),
    Page("bus order of a day (printable)", "coordinator", "/vervoer/bestelling/{bus_day}"),
    Page("known road distances", "coordinator", "/vervoer/afstanden"),
    Page("known road distances with errors", "coordinator", "/vervoer/afstanden", blank_submit=True),
    # programme leader
    Page("fairness rules", "leader", "/spelregels"),
    Page("request rounds", "leader", "/aanvraagrondes"),
    Page("request round", "leader", "/aanvraagrondes/{round}"),
    Page("reach dashboard", "leader", "/bereik/"),
    Page("reach dashboard filtered", "leader", "/bereik/?world={world}"),
    Page("school history", "leader", "/bereik/school/{school}"),
    Page("desk: bookings (programme leader)", "leader", "/bureau/?status=confirmed"),
    Page("desk: week grid (programme leader)", "leader", "/bureau/week?datum={day}"),
    Page("administration (programme leader)", "leader", "/regiobeheer/"),
    Page("accounts of the region", "leader", "/regiobeheer/gebruikers"),
    Page("invite an account (programme leader)", "leader", "/regiobeheer/gebruikers/nieuw"),
    Page("region settings", "leader", "/regiobeheer/regios/{region}"),
    # administrator
    Page("administration", "admin", "/regiobeheer/"),
    Page("regions", "admin", "/regiobeheer/regios"),
    Page("new region with errors", "admin", "/regiobeheer/regios/nieuw", blank_submit=True),
    Page("accounts", "admin", "/regiobeheer/gebruikers"),
    Page("invite an account", "admin", "/regiobeheer/gebruikers/nieuw"),
    Page("edit an account", "admin", "/regiobeheer/gebruikers/{account}"),
    Page("DUO upload", "admin", "/regiobeheer/schoolgegevens/duo"),
    Page("assign schools to a region", "admin", "/regiobeheer/schoolgegevens/regio"),
    Page(
        "assign schools to a region: the preview",
        "admin",
        "/regiobeheer/schoolgegevens/regio",
        fill={"area": "municipality", "codes": "{municipality}"},
    ),
    Page("reach dashboard, groep 6-8", "leader", "/bereik/?groepen=6-8"),
    Page("assign schools to a region (programme leader)", "leader", "/regiobeheer/schoolgegevens/regio"),
    Page(
        "assign schools to a region: the preview (programme leader)",
        "leader",
        "/regiobeheer/schoolgegevens/regio",
        fill={"area": "municipality", "codes": "{municipality}"},
    ),
    Page("holidays", "admin", "/regiobeheer/schoolgegevens/vakanties"),
]


@pytest.fixture(scope="module")
def ids(demo_site):
    """Objects of the demo region that the pages show, and a request round to look at."""
    from sqlalchemy import func, select

    from app.auth.models import Role, User
    from app.booking.models import Booking, BookingStatus
    from app.booking.rounds import create_round
    from app.demo.regional import DEFAULT_PASSWORD, teacher_email
    from app.extensions import db
    from app.labs.models import Offer, OfferPart, Session
    from app.schools.models import School
    from app.timeutil import school_year_of, to_local

    _, application = demo_site
    now = datetime.now(timezone.utc)
    with application.app_context():
        users = {
            u.role: u for u in db.session.scalars(select(User).where(User.role != Role.TEACHER).order_by(User.email))
        }
        coordinator = db.session.scalar(select(User).where(User.email.like("coordinator.doetinchem@%")))
        series_ids = select(OfferPart.offer_id)
        booking = db.session.scalars(
            select(Booking)
            .join(Session, Booking.session_id == Session.id)
            .where(Booking.status == BookingStatus.CONFIRMED, Session.starts_at > now)
            .order_by(Session.starts_at)
        ).first()
        school = booking.school
        session = db.session.scalars(
            select(Session)
            .join(Offer, Session.offer_id == Offer.id)
            .where(
                Session.starts_at > now + timedelta(days=7),
                Offer.published.is_(True),
                Offer.id.not_in(series_ids),
                Session.booked_classes < Session.capacity_classes,
            )
            .order_by(Session.starts_at)
        ).first()
        series_offer = db.session.scalar(select(Offer).where(Offer.id.in_(series_ids), Offer.published.is_(True)))
        my_venue_ids = [v.id for v in coordinator.venues]
        my_session = db.session.scalars(
            select(Session)
            .join(Offer, Session.offer_id == Offer.id)
            .where(
                Offer.venue_id.in_(my_venue_ids),
                Session.venue_id.in_(my_venue_ids),
                Session.booked_classes > 0,
                Session.starts_at > now,
            )
            .order_by(Session.starts_at)
        ).first()
        # a day of the coordinator's with classes still to come (the demo's today has attended ones)
        msg_session = db.session.scalars(
            select(Session)
            .join(Booking, Booking.session_id == Session.id)
            .where(
                Session.venue_id.in_(my_venue_ids),
                Booking.status == BookingStatus.CONFIRMED,
                Session.starts_at > now + timedelta(days=2),
            )
            .order_by(Session.starts_at)
        ).first()

        # a request awaiting the coordinator's approval (an offer with approval required), for the requests page
        requested = db.session.scalars(
            select(Booking)
            .join(Session, Booking.session_id == Session.id)
            .where(
                Session.venue_id.in_(my_venue_ids),
                Booking.status == BookingStatus.CONFIRMED,
                Booking.id != booking.id,
                Booking.series_id.is_(None),
                Session.starts_at > now,
            )
            .order_by(Session.starts_at.desc())
        ).first()
        if requested is not None:
            requested.status = BookingStatus.REQUESTED
            requested.session.offer.approval_required = True
        rnd = create_round(
            users[Role.PROGRAMME_LEADER],
            title="Aanvraagronde voorjaar",
            opens_at=now - timedelta(days=1),
            deadline_at=now + timedelta(days=14),
            school_year=school_year_of(now),
            period_start=(now + timedelta(days=21)).date(),
            period_end=(now + timedelta(days=90)).date(),
            description="Masterclasses in het voorjaar",
        )
        reached_school = db.session.scalar(
            select(Booking.school_id)
            .where(Booking.status == BookingStatus.ATTENDED)
            .group_by(Booking.school_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        from app.transport.models import Bus, BusStop

        stop = db.session.scalars(
            select(BusStop).join(Bus, BusStop.bus_id == Bus.id).order_by(Bus.arrives_at, BusStop.id)
        ).first()
        bussed = db.session.get(Booking, stop.booking_id)
        from app.demo.regional import SCHOOL_COORDINATOR_EMAIL
        from app.schools.models import SchoolClass

        icc = db.session.scalar(select(User).where(User.email == SCHOOL_COORDINATOR_EMAIL))
        school_class = db.session.scalar(select(SchoolClass).where(SchoolClass.school_id == icc.school_id).limit(1))
        out = {
            "users": {
                "teacher": teacher_email(school),
                "coordinator": coordinator.email,
                "leader": users[Role.PROGRAMME_LEADER].email,
                "bussed_teacher": teacher_email(bussed.school),
                "admin": users[Role.ADMIN].email,
                "school_coordinator": icc.email,
                "school_teacher": teacher_email(icc.school),
            },
            "school_class": school_class.id,
            "region": coordinator.region_id,
            "account": coordinator.id,
            "bussed_booking": bussed.id,
            "bus_day": to_local(stop.bus.arrives_at).date().isoformat(),
            "password": DEFAULT_PASSWORD,
            "offer": session.offer_id,
            "session": session.id,
            "venue": session.offer.venue_id,
            "series_offer": series_offer.id,
            "booking": booking.id,
            # a masterclass date (part 2, at the lab) a month ahead: the picker proposes the other parts around it
            "series_anchor": db.session.scalars(
                select(Session.id)
                .where(
                    Session.part_id == series_offer.parts[1].id,
                    Session.starts_at > now + timedelta(days=30),
                    Session.booked_classes < Session.capacity_classes,
                )
                .order_by(Session.starts_at)
            ).first(),
            "my_venue": my_session.venue_id,
            "my_offer": my_session.offer_id,
            "my_session": my_session.id,
            "day": to_local(my_session.starts_at).date().isoformat(),
            "round": rnd.id,
            "school": reached_school,
            "world": session.offer.world.value,
            "municipality": db.session.scalar(
                select(func.min(School.municipality_code)).where(School.region_id == coordinator.region_id)
            ),
            "msg_venue": msg_session.venue_id,
            "msg_day": to_local(msg_session.starts_at).date().isoformat(),
            "msg_session": msg_session.id,
        }
        db.session.commit()
        db.session.remove()
    return out


@pytest.fixture(scope="module")
def site_browser(demo_site, ids):
    """One browser for the module, signed in as the role a page needs (switching as needed)."""
    base, _ = demo_site
    driver = make_browser()
    state = {"role": None}

    def as_role(role):
        if role == state["role"]:
            return driver
        driver.get(base + "/inloggen")
        driver.delete_all_cookies()
        if role is not None:
            driver.get(base + "/inloggen")
            driver.find_element(By.ID, "email").send_keys(ids["users"][role])
            driver.find_element(By.ID, "password").send_keys(ids["password"])
            driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
            WebDriverWait(driver, 10).until(lambda d: "/inloggen" not in d.current_url)
        state["role"] = role
        return driver

    try:
        yield base, as_role
    finally:
        driver.quit()


def _submit_filled(driver, values: dict) -> None:
    """Fill fields of the main form by id and submit it (a page shown after a valid post)."""
    driver.execute_script(
        """
        const values = arguments[0];
        for (const [id, value] of Object.entries(values)) { document.getElementById(id).value = value; }
        const form = document.getElementById(Object.keys(values)[0]).form;
        form.requestSubmit(form.querySelector('button[type=submit], button:not([type])'));
    """,
        values,
    )
    WebDriverWait(driver, 10).until(
        lambda d: (
            d.execute_script("return document.readyState") == "complete"
            and d.find_elements(By.CSS_SELECTOR, "#preview, .error, .error-summary")
        )
    )


def _submit_blank(driver) -> None:
    """Empty the main form's fields and submit it past the browser's own checks."""
    driver.execute_script("""
        const form = [...document.querySelectorAll('main form')].find(f => f.method.toLowerCase() === 'post'
            && f.querySelector('input:not([type=hidden]), select, textarea'));
        form.noValidate = true;
        for (const el of form.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea')) {
            el.value = '';
        }
        const button = form.querySelector('button[type=submit], button:not([type]), input[type=submit]');
        form.requestSubmit(button);
    """)
    WebDriverWait(driver, 10).until(
        lambda d: (
            d.execute_script("return document.readyState") == "complete"
            and d.find_elements(By.CSS_SELECTOR, ".error, .error-summary, .flash-error")
        )
    )


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_meets_wcag_21_aa(site_browser, ids, page):
    base, as_role = site_browser
    driver = as_role(page.role)
    driver.get(base + page.path.format(**ids))
    assert "Fout 500" not in driver.title
    if page.blank_submit:
        _submit_blank(driver)
    if page.fill:
        _submit_filled(driver, {k: v.format(**ids) for k, v in page.fill.items()})
    violations = axe_run(driver)
    bad = serious(violations)
    if violations:
        print(f"\n{page.name}: other findings\n{describe(violations)}")
    assert not bad, f"{page.name} ({driver.current_url}):\n{describe(bad)}"


@pytest.fixture
def phone_width(site_browser):
    """The shared browser at 320 CSS pixels wide (WCAG 1.4.10), restored afterwards."""
    base, as_role = site_browser
    driver = as_role(None)
    size = driver.get_window_size()
    driver.set_window_size(320, 800)
    try:
        yield base, as_role
    finally:
        driver.set_window_size(size["width"], size["height"])


@pytest.mark.parametrize(
    "page", [p for p in PAGES if not p.blank_submit], ids=[p.name for p in PAGES if not p.blank_submit]
)
def test_page_reflows_at_320_pixels(phone_width, ids, page):
    """Content reflows on a narrow phone: no scrolling sideways for the page itself (wide
    data tables scroll within their own box), and still no serious axe finding."""
    base, as_role = phone_width
    driver = as_role(page.role)
    driver.get(base + page.path.format(**ids))
    overflow = driver.execute_script("""
        const width = document.documentElement.clientWidth;
        return [...document.querySelectorAll('body *')].filter(el => {
            if (el.closest('.table-wrap') || el.closest('.visually-hidden') || el.classList.contains('skip-link')) return false;
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.right > width + 1;
        }).slice(0, 5).map(el => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' + (el.innerText || '').slice(0, 40));
    """)
    assert not overflow, f"{page.name}: wider than the screen: {overflow}"
    bad = serious(axe_run(driver))
    assert not bad, f"{page.name} at 320 px:\n{describe(bad)}"
