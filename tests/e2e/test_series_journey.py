"""A teacher books a three-part masterclass in the browser and sees three calendar events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import vobject
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.extensions import db
from tests import factories


def _sign_in(browser, base, email):
    browser.get(base + "/inloggen")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(factories.PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: "U bent ingelogd." in d.page_source)


def test_teacher_books_a_three_part_masterclass(app, live_server, browser, client):
    now = datetime.now(timezone.utc)
    region = factories.region()
    lab, hotspot = factories.venue(region, name="Techlab Doetinchem"), factories.venue(region, name="Kwekerij")
    offer = factories.series_offer(
        region, lab, hotspot, title="Masterclass Metaal", groep_min=7, groep_max=8, adults_per_class=1
    )
    for i, part in enumerate(offer.parts):
        factories.session(offer, now + timedelta(days=20 + 7 * i), part=part)
    teacher = factories.teacher(factories.school(region))
    email, token, offer_id = teacher.email, teacher.calendar_token, offer.id
    db.session.commit()
    db.session.remove()

    _sign_in(browser, live_server, email)
    browser.get(f"{live_server}/aanbod/{offer_id}")
    browser.find_element(By.LINK_TEXT, "Alle delen boeken").click()
    browser.find_element(By.LINK_TEXT, "Alle data zelf kiezen").click()  # the picker's choice by hand
    for position in (1, 2, 3):  # the first date of each part
        browser.find_element(By.CSS_SELECTOR, f"input[name=part_{position}]").click()
    browser.find_element(By.ID, "groep").send_keys("7/8")
    browser.find_element(By.ID, "pupils").send_keys("26")
    browser.find_element(By.ID, "adults").send_keys("2")
    browser.find_element(By.ID, "contact_name").send_keys("Meester Bas")
    browser.find_element(By.XPATH, "//button[normalize-space()='Alle delen boeken']").click()
    try:
        WebDriverWait(browser, 10).until(lambda d: "Alle delen zijn geboekt" in d.page_source)
    except Exception:
        print(browser.find_element(By.TAG_NAME, "main").text)
        raise
    assert browser.page_source.count("Bevestigd") >= 3

    feed = client.get(f"/agenda/{token}.ics")
    events = vobject.readOne(feed.data.decode()).vevent_list
    assert len(events) == 3
    assert sorted(e.summary.value for e in events) == [f"Masterclass Metaal — deel {n}" for n in (1, 2, 3)]
    db.session.remove()
