"""Issue 17 in a browser (Chromium at 1280 and 375 px): a teacher books a series starting
from the masterclass date, then sees the upcoming bookings on the home page; the "Boeken"
action of the offer's table stays on screen on a phone."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from app.timeutil import local_to_utc
from tests import factories

pytestmark = pytest.mark.slow

VIEWPORTS = pytest.mark.parametrize("viewport", [(1280, 900), (375, 812)], ids=["desktop", "phone"])


def _wait(driver, text: str) -> None:
    try:
        # a click that loads the next page leaves the old <main> stale for a moment, and the
        # browser may answer a command mid-navigation with an error (as in test_journeys): ask again
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
            lambda d: text in d.find_element(By.TAG_NAME, "main").text
        )
    except Exception:
        main = driver.execute_script("return document.querySelector('main').innerText")
        raise AssertionError(f"{text!r} not on {driver.current_url}: {main[:2000]}") from None


def _sign_in(driver, base, email):
    driver.get(base + "/inloggen")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(factories.PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    _wait(driver, "U bent ingelogd.")


@VIEWPORTS
def test_teacher_books_a_series_from_the_masterclass_and_sees_it_at_home(app, live_server, browser, viewport):
    today = datetime.now(timezone.utc).date()
    at = lambda d: local_to_utc(today + timedelta(days=d), time(9, 0))
    region = factories.region()
    lab, company = factories.venue(region, name="Techlab Doetinchem"), factories.venue(region, name="Metaalbedrijf")
    offer = factories.series_offer(
        region,
        lab,
        company,
        title="Masterclass Metaal",
        gaps=((0, 0), (3, 21), (3, 21)),
        groep_min=6,
        groep_max=8,
        adults_per_class=1,
    )
    p1, p2, p3 = offer.parts
    for d in range(14, 70, 3):
        factories.session(offer, at(d), part=p1, capacity_pupils=32)
    masterclasses = [factories.session(offer, at(d), part=p2) for d in (35, 49)]
    for d in range(30, 90, 4):
        factories.session(offer, at(d), part=p3)
    teacher = factories.teacher(factories.school(region))
    email, offer_id, chosen_lab = teacher.email, offer.id, masterclasses[1].id
    db.session.commit()
    db.session.remove()

    browser.set_window_size(*viewport)
    _sign_in(browser, live_server, email)
    browser.get(f"{live_server}/aanbod/{offer_id}")
    browser.find_element(By.LINK_TEXT, "Alle delen boeken").click()
    _wait(browser, "Stap 1")
    browser.find_element(By.CSS_SELECTOR, f"label[for=anker_{chosen_lab}]").click()
    browser.find_element(By.XPATH, "//button[normalize-space()='Stel de andere delen voor']").click()
    _wait(browser, "Voorstel")
    assert browser.find_element(By.ID, f"part_2_{chosen_lab}").is_selected()
    assert "tot 32 leerlingen" not in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.ID, "groep").send_keys("7")
    browser.find_element(By.ID, "pupils").send_keys("26")
    browser.find_element(By.ID, "adults").send_keys("2")
    browser.find_element(By.ID, "contact_name").send_keys("Meester Bas")
    browser.find_element(By.XPATH, "//button[normalize-space()='Alle delen boeken']").click()
    _wait(browser, "Alle delen zijn geboekt")

    browser.get(live_server + "/")
    _wait(browser, "Uw komende boekingen")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert main.count("Masterclass Metaal") == 3

    bookings = db.session.scalars(select(Booking).order_by(Booking.part_position)).all()
    assert [b.status for b in bookings] == [BookingStatus.CONFIRMED] * 3
    assert bookings[1].session_id == chosen_lab
    assert bookings[0].session.starts_at < bookings[1].session.starts_at < bookings[2].session.starts_at
    db.session.remove()


@VIEWPORTS
def test_boeken_stays_visible(app, live_server, browser, viewport):
    region = factories.region()
    lab = factories.venue(region, name="Techlab Winterswijk")
    offer = factories.offer(region, lab, title="Bruggen bouwen", groep_min=5, groep_max=8)
    start = datetime.now(timezone.utc).replace(microsecond=0)
    for d in (10, 17, 24):
        factories.session(offer, start + timedelta(days=d))
    teacher = factories.teacher(factories.school(region))
    email, offer_id = teacher.email, offer.id
    db.session.commit()
    db.session.remove()

    browser.set_window_size(*viewport)
    _sign_in(browser, live_server, email)
    browser.get(f"{live_server}/aanbod/{offer_id}")
    links = browser.find_elements(By.XPATH, "//main//table//a[starts-with(normalize-space(), 'Boeken')]")
    assert len(links) == 3
    width = browser.execute_script("return document.documentElement.clientWidth")
    for link in links:
        rect = browser.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.width];", link
        )
        assert link.is_displayed() and rect[2] > 0 and rect[0] >= 0 and rect[1] <= width + 1, (rect, width)
    links[0].click()
    _wait(browser, "Uw klas")
