"""A coordinator opens the bus plan of a day that needs more than the fleet: every warning is
on the page (with the choices for the class without a bus) until 'Ik heb het gezien'."""

from __future__ import annotations

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from app.extensions import db
from app.timeutil import to_local
from app.transport import plans
from app.transport.models import BusPlan
from tests.transport.conftest import book, drain, school_at, short_day, transport  # noqa: F401 (fixture)

from .test_series_journey import _sign_in


def _until_gone(browser, element) -> None:
    """Wait until the page the click left is gone (the element is stale). Asked while that
    page unloads, Chromium may answer "unhandled inspector error" instead: ask again."""
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(EC.staleness_of(element))


def test_the_plan_page_shows_every_warning(app, live_server, browser, transport):  # noqa: F811
    named, later, plan = short_day(transport)
    region, coord = transport["region"], transport["coord"]
    # a far class in the later session takes the minibus alone: a ride over the limit
    s, t = school_at(region, 70, east=-0.2, name="Basisschool Heelverweg")
    book(t, s, later, pupils=12, adults=1)
    # the coordinator pinned the class from 70 km onto the nearby class's bus: a pin that breaks the rule
    db.session.expire_all()
    plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == transport["session"].id))
    stops = {st.booking_id: st for bus in plan.buses for st in bus.stops}
    near, far = stops[named["near"].id], stops[named["far"].id]
    far.bus_id, far.pinned, near.pinned = near.bus_id, True, True
    db.session.flush()
    plans.plan_session(transport["session"].id, force=True)
    db.session.commit()
    # the greedy fallback only happens on sessions too big to enumerate where routing fails:
    # its warning is added as the planner writes it, to see that the page shows it
    plan = db.session.scalar(select(BusPlan).where(BusPlan.session_id == later.id))
    plan.warnings = plan.warnings + [{"code": "greedy"}]
    db.session.commit()
    day = to_local(transport["session"].starts_at).date().isoformat()
    email = coord.email
    db.session.remove()

    _sign_in(browser, live_server, email)
    browser.get(f"{live_server}/vervoer/?datum={day}")
    main = browser.find_element(By.TAG_NAME, "main")
    codes = {
        li.get_attribute("data-code") for li in main.find_elements(By.CSS_SELECTOR, ".plan-warnings li[data-code]")
    }
    assert {
        "ride_over_limit",
        "no_bus",
        "no_coordinates",
        "implausible_coordinates",
        "pin_breaks_rule",
        "greedy",
    } <= codes
    text = main.text
    assert "Basisschool Achteraan (30 plaatsen) heeft geen bus" in text
    assert "Een extra Touringcar 50 huren voor deze dag (€ 240.00 per rit)." in text
    assert "De school vragen of ze zelf vervoer regelt." in text
    assert "Basisschool Nergens ligt volgens de coördinaten buiten Nederland" in text
    assert "Basisschool Zonder heeft geen coördinaten" in text
    assert text.count("te controleren") >= 2
    while browser.find_elements(By.XPATH, "//main//button[normalize-space()='Ik heb het gezien']"):
        button = browser.find_element(By.XPATH, "//main//button[normalize-space()='Ik heb het gezien']")
        button.click()
        _until_gone(browser, button)  # the next page, not the flash of the last one
        WebDriverWait(browser, 10).until(lambda d: "Gezien: de waarschuwingen" in d.page_source)
    assert "te controleren" not in browser.find_element(By.TAG_NAME, "main").text
    assert "heeft geen bus" in browser.find_element(By.TAG_NAME, "main").text  # the warnings stay visible
    # the coordinator takes the choice: one extra coach for the day; the worker re-plans; the class rides
    button = browser.find_element(By.XPATH, "//main//button[starts-with(normalize-space(), 'Een extra Touringcar 50')]")
    button.click()
    _until_gone(browser, button)
    WebDriverWait(browser, 10).until(lambda d: "Gehuurd: de bussen van die dag" in d.page_source)
    assert "1 × Touringcar 50 gehuurd voor deze dag" in browser.find_element(By.TAG_NAME, "main").text
    drain()
    db.session.remove()
    browser.get(f"{live_server}/vervoer/?datum={day}")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "Basisschool Achteraan (30 plaatsen) heeft geen bus" not in text and "gehuurd" in text
