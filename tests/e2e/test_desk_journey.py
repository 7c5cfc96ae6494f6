"""A coordinator at the desk, in Chromium on a desktop and on a 375 px phone: finds a school's
bookings, messages a day's schools (the mails arrive), views and prints the week grid and the
day sheet (print CSS: every column on A4 landscape), undoes a cancellation, and moves the
offer's bookings at once (select all by keyboard, the target chosen among the offer's sessions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.ui import WebDriverWait

from app.booking.models import Booking, BookingStatus
from app.booking.services import ClassDetails, create_booking
from app.extensions import db
from app.timeutil import to_local
from tests import factories

MM = 96 / 25.4  # CSS pixels per millimetre


def _printable_width(browser) -> int:
    """The printable width of the paper the page's print CSS asks for (its @page rule: A4, portrait
    unless it says landscape; 10 mm margins), in CSS pixels; A4 portrait when there is no rule."""
    size = browser.execute_script("""
        for (const sheet of document.styleSheets) {
            let rules; try { rules = sheet.cssRules; } catch (e) { continue; }
            for (const rule of rules) { if (rule.type === CSSRule.PAGE_RULE) return rule.style.size || ''; }
        }
        return '';""")
    return round(((297 if "landscape" in size else 210) - 20) * MM)


def _wait_for(browser, text: str) -> None:
    try:
        WebDriverWait(browser, 10).until(lambda d: text in d.page_source)
    except Exception:
        print(browser.find_element(By.TAG_NAME, "main").text)
        raise


def _click(browser, text: str) -> None:
    el = browser.find_element(By.XPATH, f"//main//*[self::button or self::a][normalize-space()='{text}']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    el.click()


def _print_check(browser, headers: list[str]) -> None:
    """With print media at the width of A4 landscape: no navigation, and each of these column
    headers shown whole within the page (nothing cut off on the right)."""
    size = browser.get_window_size()
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    browser.set_window_size(_printable_width(browser), 900)
    try:
        assert (
            browser.execute_script("return getComputedStyle(document.querySelector('.site-header')).display") == "none"
        )
        width = browser.execute_script("return document.documentElement.clientWidth")
        for text in headers:
            right = browser.execute_script(
                """
                const th = [...document.querySelectorAll('th')].find(el => el.textContent.trim() === arguments[0]);
                if (!th) return null;
                const r = th.getBoundingClientRect();
                return r.width > 0 ? r.right : null;""",
                text,
            )
            assert right is not None and right <= width + 1, f"column {text!r} cut off when printed ({right} > {width})"
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.set_window_size(size["width"], size["height"])


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 812)], ids=["desktop", "phone"])
def test_coordinator_desk_journey(app, live_server, browser, mailbox, drain_outbox, viewport):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    region = factories.region()
    venue = factories.venue(region, name="Techlab Ulft")
    offer = factories.offer(
        region,
        venue,
        title="Zonne-energie",
        groep_min=5,
        groep_max=8,
        capacity_classes=3,
        capacity_pupils=90,
        adults_per_class=1,
    )
    day_start = (now + timedelta(days=20)).replace(hour=9, minute=0, second=0)
    session = factories.session(offer, day_start)
    later = factories.session(offer, day_start + timedelta(days=7))
    schools = [
        factories.school(region, name=n, city=c) for n, c in (("De Zonnewijzer", "Ulft"), ("Het Kompas", "Gendringen"))
    ]
    teachers = [factories.teacher(s) for s in schools]
    coord = factories.user("coordinator", region=region, venues=[venue])
    db.session.commit()
    bookings = [
        create_booking(
            t,
            session.id,
            ClassDetails(
                t.school_id,
                "7",
                24,
                2,
                contact_name="Juf",
                contact_email=f"leerkracht.groep7.juf{i}@basisschool-de-zonnewijzer-ulft.nl",
                remarks="Een leerling in een rolstoel; graag een lift en een ruime tafel bij de deur",
            ),
        )
        for i, t in enumerate(teachers)
    ]
    db.session.commit()
    email, venue_id, offer_id, session_id, later_id = coord.email, venue.id, offer.id, session.id, later.id
    booking_id, booking_ids = bookings[0].id, [b.id for b in bookings]
    day = to_local(day_start).date().isoformat()
    drain_outbox()
    mailbox.clear()
    db.session.remove()  # SQLite: release the write lock for the server

    browser.set_window_size(*viewport)
    browser.get(live_server + "/inloggen")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(factories.PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith("/bureau/"))  # the desk is home

    # finds a school's bookings: the filter stays in the URL
    browser.find_element(By.ID, "f-school").send_keys("kompas")
    _click(browser, "Zoeken")
    _wait_for(browser, "1 boeking gevonden.")
    assert "school=kompas" in browser.current_url
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Het Kompas" in main and "De Zonnewijzer" not in main

    # the week grid, on screen and printed
    browser.get(f"{live_server}/bureau/week?datum={day}")
    _wait_for(browser, "Weekoverzicht")
    assert "2 van 3 klassen, 48 van 90 leerlingen" in browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_element(By.CSS_SELECTOR, "table.week-grid caption").is_displayed()
    _print_check(browser, ["Locatie"])
    # messages the day's schools from the grid
    link = browser.find_element(By.CSS_SELECTOR, "table.week-grid a[href*='/bureau/bericht']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    _wait_for(browser, "2 boekingen krijgen dit bericht.")
    browser.find_element(By.ID, "msg-subject").send_keys("Parkeren bij het techlab")
    browser.find_element(By.ID, "msg-text").send_keys("De bus parkeert aan de achterkant.")
    _click(browser, "Versturen")
    _wait_for(browser, "Gelukt: 2. Niet gelukt: 0.")
    drain_outbox()
    got = sorted(m["To"] for m in mailbox if m["Subject"] == "Parkeren bij het techlab")
    assert len(got) == 2 and any("juf0@" in to for to in got) and any("juf1@" in to for to in got)
    db.session.remove()

    # the day sheet: every column printed on A4 (Opmerkingen and Bus included)
    browser.get(f"{live_server}/beheer/dagoverzicht/{venue_id}/{day}")
    _wait_for(browser, "Dagoverzicht")
    _print_check(browser, ["School", "Contact", "Opmerkingen", "Bus"])

    # cancels a booking, then undoes it from the flash message
    browser.get(f"{live_server}/boekingen/{booking_id}/annuleren")  # the confirmation step
    browser.find_element(By.ID, "reason").send_keys("Vergissing")
    _click(browser, "Ja, annuleren")
    _wait_for(browser, "De boeking is geannuleerd.")
    undo = browser.find_element(By.XPATH, "//form[contains(@class,'undo-form')]//button")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", undo)
    undo.click()
    _wait_for(browser, "De annulering is ongedaan gemaakt")
    assert "Annulering ongedaan gemaakt door" in browser.find_element(By.TAG_NAME, "main").text
    assert db.session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
    db.session.remove()

    # moves the offer's bookings at once: select all by keyboard, the target among the offer's sessions
    browser.get(f"{live_server}/bureau/")
    hint = browser.find_element(By.ID, "move-hint").text
    assert "Verplaatsen kan alleen met een filter op één aanbod" in hint
    browser.get(f"{live_server}/bureau/?offer_id={offer_id}&status=confirmed")
    _wait_for(browser, "2 boekingen gevonden.")
    pick_all = browser.find_element(By.ID, "pick-all")
    assert pick_all.is_displayed() and pick_all.accessible_name == "Alle boekingen op deze pagina kiezen"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pick_all)
    pick_all.send_keys(Keys.SPACE)
    picks = browser.find_elements(By.CSS_SELECTOR, "input[name='booking_id']")
    assert len(picks) == 2 and all(p.is_selected() for p in picks)
    assert browser.find_element(By.ID, "pick-count").text == "Gekozen op deze pagina: 2."
    pick_all.send_keys(Keys.SPACE)
    assert not any(p.is_selected() for p in picks)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", picks[0])
    picks[0].send_keys(Keys.SPACE)
    assert browser.execute_script("return document.getElementById('pick-all').indeterminate")
    pick_all.send_keys(Keys.SPACE)  # mixed: all
    assert all(p.is_selected() for p in picks)
    target = Select(browser.find_element(By.ID, "act-move-to"))
    assert [o.get_attribute("value") for o in target.options] == [str(session_id), str(later_id)]  # this offer's
    target.select_by_value(str(later_id))
    move = browser.find_element(By.ID, "act-move")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", move)
    move.send_keys(Keys.SPACE)
    browser.find_element(By.ID, "act-reason").send_keys("Het lab is die dag dicht")
    _click(browser, "Uitvoeren")
    _wait_for(browser, "Gelukt: 2. Niet gelukt: 0.")
    assert {b.session_id for b in db.session.scalars(select(Booking).where(Booking.id.in_(booking_ids)))} == {later_id}
    db.session.remove()
