"""In the browser: a teacher signs in with a school account at a real OpenID provider (the
certified ``oidc-provider`` npm package, tests/oidc_provider), picks the location of their
institution, and books; a pupil's account is refused. The pages of the sign-in (the sign-in
page with its providers, the choice of location, the refusal) pass the accessibility check.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from app.auth.models import User
from app.booking.models import Booking, BookingStatus
from app.extensions import db
from tests import factories
from tests.e2e.axe_check import axe_run, describe, serious
from tests import oidc_support
from tests.oidc_support import LABEL, configure

oidc_provider = oidc_support.oidc_provider  # the fixture of the test provider

pytestmark = pytest.mark.slow


def wait_for(driver, text: str) -> None:
    try:
        WebDriverWait(driver, 15).until(lambda d: text in d.page_source)
    except Exception:
        body = driver.execute_script("return document.body.innerText")
        raise AssertionError(f"{text!r} not on {driver.current_url}: {body[:2000]}") from None


def accessible(driver, name: str) -> None:
    bad = serious(axe_run(driver))
    assert not bad, f"{name} ({driver.current_url}):\n{describe(bad)}"


def provider_login(driver, base: str, account: str) -> None:
    driver.get(base + "/inloggen")
    driver.find_element(By.LINK_TEXT, f"Inloggen met {LABEL}").click()
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "login"))  # the provider's own page
    driver.find_element(By.ID, "login").send_keys(account)
    driver.find_element(By.ID, "sign-in").click()


def test_teacher_signs_in_with_a_school_account_picks_the_location_and_books(app, live_server, browser, oidc_provider):
    region = factories.region()
    factories.school(region, brin="09XY", location_code="09XY00", name="De Regenboog, hoofdlocatie")
    dorp = factories.school(region, brin="09XY", location_code="09XY01", name="De Regenboog, Dorpsstraat")
    factories.school(region, brin="07AB", location_code="07AB00", name="OBS De Linde")
    lab = factories.venue(region, name="Techlab Winterswijk")
    offer = factories.offer(
        region, lab, title="Bruggen bouwen", groep_min=5, groep_max=8, capacity_pupils=60, capacity_classes=2
    )
    session = factories.session(offer, datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=21))
    dorp_id, session_id, region_id = dorp.id, session.id, region.id
    db.session.commit()
    db.session.remove()  # SQLite: release the write lock for the server
    base_url = app.config["BASE_URL"]
    configure(app, [oidc_provider.config()], live_server)
    try:
        browser.get(live_server + "/inloggen")
        accessible(browser, "sign-in page with its providers")
        provider_login(browser, live_server, "meester-bram")
        wait_for(browser, "Kies uw school")
        assert browser.current_url.startswith(live_server)
        accessible(browser, "choose the location")
        browser.find_element(By.XPATH, "//label[contains(., 'De Regenboog, Dorpsstraat')]").click()
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait_for(browser, f"U bent ingelogd via {LABEL}.")

        browser.get(f"{live_server}/boekingen/nieuw?session_id={session_id}")
        wait_for(browser, "Uw klas")
        Select(browser.find_element(By.ID, "groep")).select_by_value("6")
        browser.find_element(By.ID, "pupils").send_keys("24")
        browser.find_element(By.ID, "adults").send_keys("2")
        browser.find_element(By.ID, "contact_name").send_keys("Meester Bram")
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait_for(browser, "Uw boeking is bevestigd.")

        teacher = db.session.scalar(select(User).where(User.email == "bram.jansen@de-regenboog.example"))
        assert teacher.school_id == dorp_id and teacher.region_id == region_id
        booking = db.session.scalar(select(Booking).where(Booking.session_id == session_id))
        assert (booking.school_id, booking.status, booking.pupils) == (dorp_id, BookingStatus.CONFIRMED, 24)
        db.session.remove()

        # a pupil of another school of the region: refused, told why
        browser.find_element(By.CSS_SELECTOR, "form[action='/uitloggen'] button").click()
        wait_for(browser, "Ook uitloggen bij Testschool-ID")
        accessible(browser, "signed out, the provider's sign-out offered")
        # signing out at the provider too (another person at this computer): its own question, then back home
        browser.find_element(By.LINK_TEXT, "Ook uitloggen bij Testschool-ID").click()
        WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "button[name=logout][value=yes]"))
        browser.find_element(By.CSS_SELECTOR, "button[name=logout][value=yes]").click()
        WebDriverWait(browser, 15).until(lambda d: d.current_url == live_server + "/")
        provider_login(browser, live_server, "leerling-daan")
        wait_for(browser, "Dit is een leerlingaccount.")
        assert browser.current_url.startswith(live_server)
        accessible(browser, "sign-in refused")
        assert db.session.scalar(select(User).where(User.email.like("daan@%"))) is None
        db.session.remove()
    finally:
        configure(app, None, base_url)
