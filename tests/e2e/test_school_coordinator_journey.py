"""In the browser: a school coordinator invites a colleague and adds class 7B for this school
year; the colleague signs in by an e-mail link (read from the test SMTP server) and books
class 7B picked from the school's classes; the school coordinator sees both classes'
bookings, and gets 403/404 for another school's and another region's data."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from app.auth.models import Role, User
from app.booking.models import Booking, BookingStatus
from app.booking.services import ClassDetails, create_booking
from app.extensions import db
from app.schools.models import SchoolClass
from app.timeutil import school_year_of
from tests import factories

from .test_coordinator_journey import _fill, _submit, _wait_for
from .test_series_journey import _sign_in


def _sign_out(browser, base):
    browser.get(base + "/inloggen")
    browser.delete_all_cookies()


def _link(mailbox, to: str, pattern: str) -> str:
    for msg in mailbox:
        if msg["To"] == to:
            found = re.search(pattern, msg.get_body(("plain",)).get_content())
            if found:
                return "/" + found.group(0).split("/", 3)[3]
    raise AssertionError(f"no mail to {to} with {pattern}: {[(m['To'], m['Subject']) for m in mailbox]}")


def test_school_coordinator_journey(app, live_server, browser, mailbox, drain_outbox):
    now = datetime.now(timezone.utc)
    year = school_year_of(now)
    region = factories.region(classes_per_school_session=3)
    venue = factories.venue(region)
    offer = factories.offer(
        region,
        venue,
        title="Robots programmeren",
        groep_min=5,
        groep_max=8,
        capacity_classes=4,
        capacity_pupils=120,
        adults_per_class=1,
    )
    session = factories.session(offer, (now + timedelta(days=40)).replace(hour=9, minute=0, second=0, microsecond=0))
    school, other_school = factories.school(region, name="De Regenboog"), factories.school(region, name="Het Anker")
    icc = factories.user(Role.SCHOOL_COORDINATOR, region=region, school=school)
    teacher = factories.teacher(school)
    db.session.add(SchoolClass(school_id=school.id, school_year=year, name="7A", groep_min=7, groep_max=7, pupils=25))
    booking_7a = create_booking(
        teacher,
        session.id,
        ClassDetails(school.id, "7", 25, 2, contact_name="Juf Sanne", contact_email=teacher.email, class_name="7A"),
    )
    other_teacher = factories.teacher(other_school)
    other_booking = create_booking(
        other_teacher,
        session.id,
        ClassDetails(
            other_school.id, "8", 22, 2, contact_name="Meester Ruud", contact_email=other_teacher.email, class_name="8Z"
        ),
    )
    region2 = factories.region()
    far_school = factories.school(region2)
    far_offer = factories.offer(region2, factories.venue(region2), adults_per_class=0)
    far_booking = create_booking(
        factories.teacher(far_school),
        factories.session(far_offer).id,
        ClassDetails(far_school.id, "7", 20, 0, contact_name="Juf Ver", contact_email="ver@example.org"),
    )
    db.session.commit()
    ids = dict(
        school=school.id,
        session=session.id,
        other_booking=other_booking.id,
        far_booking=far_booking.id,
        booking_7a=booking_7a.id,
    )
    icc_email = icc.email
    drain_outbox()
    mailbox.clear()
    db.session.remove()

    # the school coordinator invites a colleague and adds class 7B for this school year
    _sign_in(browser, live_server, icc_email)
    browser.find_element(By.LINK_TEXT, "Leerkrachten").click()
    _fill(browser, "email", "collega@regenboog.nl")
    _fill(browser, "name", "Meester Bram")
    _submit(browser, "Uitnodiging versturen")
    _wait_for(browser, "collega@regenboog.nl is uitgenodigd")
    browser.find_element(By.LINK_TEXT, "Klassen").click()
    assert Select(browser.find_element(By.ID, "school_year")).first_selected_option.get_attribute("value") == str(year)
    _fill(browser, "name", "7B")
    Select(browser.find_element(By.ID, "groep")).select_by_value("7")
    _fill(browser, "pupils", "23")
    _submit(browser, "Klas toevoegen")
    _wait_for(browser, "Klas 7B is toegevoegd.")
    assert "7A" in browser.find_element(By.TAG_NAME, "main").text
    drain_outbox()
    assert _link(mailbox, "collega@regenboog.nl", r"http://\S+/uitnodiging/\S+")  # the invitation
    _sign_out(browser, live_server)

    # the colleague signs in by an e-mail link, read from the test SMTP server
    browser.get(live_server + "/inloggen")
    browser.find_element(By.LINK_TEXT, "Stuur mij een inloglink").click()
    _fill(browser, "email", "collega@regenboog.nl")
    _submit(browser, "Stuur mij een inloglink")
    _wait_for(browser, "Als dit e-mailadres bij ons bekend is")
    drain_outbox()
    path = _link(mailbox, "collega@regenboog.nl", r"http://\S+/inloglink/\S+")
    browser.get(live_server + path)
    _submit(browser, "Inloggen")
    _wait_for(browser, "U bent ingelogd.")
    # and books class 7B, picked from the school's classes
    browser.get(f"{live_server}/boekingen/nieuw?session_id={ids['session']}")
    Select(browser.find_element(By.ID, "klas")).select_by_visible_text("7B (groep 7, 23 leerlingen)")
    _submit(browser, "Klas kiezen")
    WebDriverWait(browser, 10).until(
        lambda d: "klas=" in d.current_url and d.execute_script("return document.readyState") == "complete"
    )
    assert browser.find_element(By.ID, "class_name").get_attribute("value") == "7B"
    assert browser.find_element(By.ID, "pupils").get_attribute("value") == "23"
    _fill(browser, "adults", "2")
    _submit(browser, "Boeken")
    _wait_for(browser, "Uw boeking is bevestigd.")
    # the link worked once: a second use is refused
    _sign_out(browser, live_server)
    browser.get(live_server + path)
    assert "Link ongeldig" in browser.title

    # the school coordinator sees both classes' bookings, and none of another school
    _sign_in(browser, live_server, icc_email)
    browser.find_element(By.LINK_TEXT, "Boekingen van de school").click()
    _wait_for(browser, "Robots programmeren")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "7A (7, 25)" in text and "7B (7, 23)" in text and "8Z" not in text
    browser.get(f"{live_server}/boekingen/{ids['other_booking']}")
    assert "403" in browser.title
    browser.get(f"{live_server}/boekingen/{ids['far_booking']}")
    assert "404" in browser.title
    browser.get(f"{live_server}/boekingen/{ids['booking_7a']}")
    assert "Annuleren" in browser.find_element(By.TAG_NAME, "main").text

    db.session.remove()
    booked = db.session.scalars(
        select(Booking).where(Booking.school_id == ids["school"], Booking.status == BookingStatus.CONFIRMED)
    ).all()
    assert sorted(b.class_name for b in booked) == ["7A", "7B"]
    colleague = db.session.scalar(select(User).where(User.email == "collega@regenboog.nl"))
    assert colleague.role == Role.TEACHER and colleague.school_id == ids["school"]
    assert next(b for b in booked if b.class_name == "7B").contact_user_id == colleague.id
