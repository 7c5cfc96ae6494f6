"""Issue 17 in a browser (Chromium at 1280 and 375 px): a teacher changes pupil numbers and
cancels with a confirmation step (keyboard only at 375 px, with a visible focus); on an offer
with approval the booking waits, the coordinator approves and both mails arrive; a booking
outside the horizon or inside the minimum notice is refused with the reason."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from app.booking.models import Booking, BookingStatus
from app.extensions import db
from tests import factories
from tests.e2e.test_keyboard_booking import focused, press, tab_to, wait_for

pytestmark = pytest.mark.slow
VIEWPORTS = pytest.mark.parametrize("viewport", [(1280, 900), (375, 812)], ids=["desktop", "phone"])


def _world(**offer_kw):
    region = factories.region()
    lab = factories.venue(
        region,
        name="Techlab Zutphen",
        contact_name="Piet Lab",
        contact_email="piet@techlab.nl",
        contact_phone="0575 123 456",
    )
    offer = factories.offer(
        region,
        lab,
        title="Bruggen bouwen",
        groep_min=5,
        groep_max=8,
        capacity_pupils=60,
        capacity_classes=2,
        adults_per_class=1,
        **offer_kw,
    )
    session = factories.session(offer, datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=21))
    teacher = factories.teacher(factories.school(region))
    coord = factories.user("coordinator", region=region, venues=[lab])
    out = dict(teacher=teacher.email, coord=coord.email, session=session.id, school=teacher.school_id)
    db.session.commit()
    db.session.remove()  # SQLite: release the write lock for the server
    return out


def _sign_in(browser, base, email):
    browser.delete_all_cookies()
    browser.get(base + "/inloggen")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(factories.PASSWORD, Keys.ENTER)
    wait_for(browser, "U bent ingelogd.")


def _book(browser, base, session_id, pupils="24"):
    browser.get(f"{base}/boekingen/nieuw?session_id={session_id}")
    Select(browser.find_element(By.ID, "groep")).select_by_value("7")
    browser.find_element(By.ID, "pupils").send_keys(pupils)
    browser.find_element(By.ID, "adults").send_keys("2")
    name = browser.find_element(By.ID, "contact_name")
    if not name.get_attribute("value"):
        name.send_keys("Juf Ans")
    button = browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def _booking(school_id):
    booking = db.session.scalar(select(Booking).where(Booking.school_id == school_id))
    db.session.remove()
    return booking


@VIEWPORTS
def test_teacher_changes_pupil_numbers(app, live_server, browser, viewport, mailbox, drain_outbox):
    w = _world(change_deadline_days=7)
    browser.set_window_size(*viewport)
    _sign_in(browser, live_server, w["teacher"])
    _book(browser, live_server, w["session"])
    wait_for(browser, "Uw boeking is bevestigd.")
    browser.find_element(By.LINK_TEXT, "Aantallen, contact of klas wijzigen").click()
    wait_for(browser, "Wijzigen kan tot")
    pupils = browser.find_element(By.ID, "pupils")
    assert pupils.get_attribute("value") == "24"
    pupils.clear()
    pupils.send_keys("61", Keys.ENTER)  # more than a class may have: shown on the field, nothing changed
    wait_for(browser, "Tussen 1 en 40.")
    pupils = browser.find_element(By.ID, "pupils")
    pupils.clear()
    pupils.send_keys("27", Keys.ENTER)
    wait_for(browser, "De boeking is gewijzigd.")
    assert _booking(w["school"]).pupils == 27
    drain_outbox()
    mail = [m for m in mailbox if m["Subject"] == "Boeking gewijzigd: Bruggen bouwen"]
    assert mail and "24 → 27" in mail[0].get_body(("plain",)).get_content()
    db.session.remove()


@VIEWPORTS
def test_teacher_cancels_with_a_confirmation_by_keyboard(app, live_server, browser, viewport):
    w = _world()
    browser.set_window_size(*viewport)
    _sign_in(browser, live_server, w["teacher"])
    _book(browser, live_server, w["session"])
    wait_for(browser, "Uw boeking is bevestigd.")
    booking_id = _booking(w["school"]).id
    unseen: list = []
    browser.get(f"{live_server}/boekingen/{booking_id}")
    tab_to(browser, f"main a[href='/boekingen/{booking_id}/annuleren']", unseen=unseen)
    press(browser, Keys.ENTER)
    wait_for(browser, "Boeking annuleren?")
    assert "andere scholen kunnen hem boeken" in browser.page_source
    assert _booking(w["school"]).status == BookingStatus.CONFIRMED  # the first step changes nothing
    # "No" first: back to the booking, still confirmed
    tab_to(browser, "main a.button.secondary", unseen=unseen)
    press(browser, Keys.ENTER)
    wait_for(browser, "Annuleren kan tot")
    tab_to(browser, f"main a[href='/boekingen/{booking_id}/annuleren']", unseen=unseen)
    press(browser, Keys.ENTER)
    wait_for(browser, "Boeking annuleren?")
    tab_to(browser, "main form button[type=submit]", unseen=unseen)
    assert focused(browser)["visible"]
    press(browser, Keys.ENTER)
    wait_for(browser, "De boeking is geannuleerd.")
    assert not unseen, f"focus not visible on: {unseen}"
    assert _booking(w["school"]).status == BookingStatus.CANCELLED
    width = browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert width


@VIEWPORTS
def test_booking_waits_for_approval_and_the_coordinator_approves(
    app, live_server, browser, viewport, mailbox, drain_outbox
):
    w = _world(approval_required=True)
    browser.set_window_size(*viewport)
    _sign_in(browser, live_server, w["teacher"])
    _book(browser, live_server, w["session"])
    wait_for(browser, "Uw aanvraag is verstuurd.")
    wait_for(browser, "Aangevraagd: wacht op goedkeuring")
    drain_outbox()
    assert [
        m for m in mailbox if m["Subject"].startswith("Nieuwe aanvraag om goed te keuren") and w["coord"] in m["To"]
    ]
    assert [m for m in mailbox if m["Subject"].startswith("Aangevraagd: Bruggen bouwen") and w["teacher"] in m["To"]]
    db.session.remove()
    _sign_in(browser, live_server, w["coord"])
    browser.get(live_server + "/boekingen/aanvragen")
    wait_for(browser, "Aanvragen die op uw antwoord wachten")
    button = browser.find_element(By.XPATH, "//button[normalize-space()='Goedkeuren']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    wait_for(browser, "De aanvraag is goedgekeurd")
    assert _booking(w["school"]).status == BookingStatus.CONFIRMED
    drain_outbox()
    assert [
        m for m in mailbox if m["Subject"] == "Goedgekeurd en bevestigd: Bruggen bouwen" and w["teacher"] in m["To"]
    ]
    db.session.remove()


@VIEWPORTS
@pytest.mark.parametrize(
    "setting, reason",
    [
        (dict(booking_horizon_weeks=2), "Boeken kan hoogstens 2 weken van tevoren"),
        (dict(min_notice_days=28), "Boeken kan tot uiterlijk 28 dagen van tevoren"),
    ],
    ids=["horizon", "notice"],
)
def test_booking_outside_the_horizon_or_inside_the_notice_is_refused(
    app, live_server, browser, viewport, setting, reason
):
    w = _world(**setting)
    browser.set_window_size(*viewport)
    _sign_in(browser, live_server, w["teacher"])
    _book(browser, live_server, w["session"])
    wait_for(browser, reason)
    assert _booking(w["school"]) is None
