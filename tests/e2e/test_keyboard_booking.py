"""A teacher books a class with the keyboard alone — on a desktop and on a phone.

Only key presses move through the pages (Tab, Shift+Tab, Enter, Space, typing): never a
click. Every element the keyboard reaches on the way must show where the focus is.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from tests import factories

pytestmark = pytest.mark.slow

# Visible focus: an outline or a box shadow that the focused element has (WCAG 2.4.7).
_FOCUS_STYLE = """
const el = document.activeElement, cs = getComputedStyle(el);
const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
const shadow = cs.boxShadow && cs.boxShadow !== 'none';
return {visible: outline || shadow, tag: el.tagName, id: el.id, text: (el.innerText || el.value || '').slice(0, 40),
        outline: cs.outlineStyle + ' ' + cs.outlineWidth, shadow: cs.boxShadow};
"""


def press(driver, *keys) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def focused(driver) -> dict:
    return driver.execute_script(_FOCUS_STYLE)


def tab_to(driver, selector: str, *, max_steps: int = 120, unseen: list | None = None):
    """Press Tab until the focused element matches ``selector``; note any focus stop
    without a visible focus indicator in ``unseen``."""
    for _ in range(max_steps):
        press(driver, Keys.TAB)
        state = focused(driver)
        if not state["visible"] and unseen is not None:
            unseen.append((driver.current_url, state))
        if driver.execute_script("return document.activeElement.matches(arguments[0])", selector):
            return driver.switch_to.active_element
    raise AssertionError(f"the keyboard never reached {selector} on {driver.current_url}")


def wait_for(driver, text: str) -> None:
    try:
        # a command mid-navigation may meet an error from the browser: ask again until the time is up
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(lambda d: text in d.page_source)
    except Exception:
        main = driver.execute_script("return document.querySelector('main').innerText")
        raise AssertionError(f"{text!r} not on {driver.current_url}: {main[:2000]}") from None


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_teacher_books_with_the_keyboard_only(app, live_server, browser, viewport):
    region = factories.region()
    school = factories.school(region)
    lab = factories.venue(region, name="Techlab Winterswijk")
    offer = factories.offer(
        region, lab, title="Bruggen bouwen", groep_min=5, groep_max=8, capacity_pupils=60, capacity_classes=2
    )
    session = factories.session(offer, datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=21))
    teacher = factories.teacher(school)
    email, school_id, session_id, offer_id = teacher.email, school.id, session.id, offer.id
    db.session.commit()
    db.session.remove()  # SQLite: release the write lock for the server

    browser.set_window_size(*viewport)
    unseen: list = []
    browser.get(live_server + "/inloggen")
    tab_to(browser, "#email", unseen=unseen).send_keys(email)
    press(browser, Keys.TAB)
    press(browser, factories.PASSWORD, Keys.ENTER)
    wait_for(browser, "U bent ingelogd.")

    tab_to(browser, "header a[href='/aanbod/']", unseen=unseen)
    press(browser, Keys.ENTER)
    wait_for(browser, "Bruggen bouwen")
    tab_to(browser, f"main a[href='/aanbod/{offer_id}']", unseen=unseen)
    press(browser, Keys.ENTER)
    wait_for(browser, "Plaatsen vrij")
    tab_to(browser, f"main a[href*='session_id={session_id}']", unseen=unseen)
    press(browser, Keys.ENTER)
    wait_for(browser, "Uw klas")

    tab_to(browser, "#groep", unseen=unseen)
    press(browser, "6")  # a select takes the option its typed text starts with
    press(browser, Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "class_name"  # left empty: the groep names it
    press(browser, Keys.TAB, "24")
    assert browser.switch_to.active_element.get_attribute("id") == "pupils"
    for _ in range(2):  # back past the class name to the groep
        ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    assert browser.switch_to.active_element.get_attribute("id") == "groep"
    assert browser.switch_to.active_element.get_attribute("value") == "6"
    press(browser, Keys.TAB, Keys.TAB, Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "adults"
    press(browser, "2")
    tab_to(browser, "#contact_name", unseen=unseen)
    press(browser, "Juf Ans")
    tab_to(browser, "main form button[type=submit]", unseen=unseen)
    press(browser, Keys.SPACE)
    wait_for(browser, "Uw boeking is bevestigd.")

    assert not unseen, f"focus not visible on: {unseen}"
    booking = db.session.scalar(select(Booking).where(Booking.school_id == school_id, Booking.session_id == session_id))
    assert booking is not None
    assert (booking.status, booking.groep_min, booking.groep_max, booking.pupils, booking.adults) == (
        BookingStatus.CONFIRMED,
        6,
        6,
        24,
        2,
    )
    db.session.remove()
