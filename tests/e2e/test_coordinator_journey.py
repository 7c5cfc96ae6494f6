"""A coordinator sets up a new techlab in the browser: the venue, two offers, a term of
sessions that skips the autumn and Christmas holidays; then cancels a booked session and
every booked school gets a mail."""

from __future__ import annotations

from datetime import date

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import func, select

from app.auth.models import HolidayRegion
from app.booking.models import Booking, BookingStatus
from app.booking.services import ClassDetails, create_booking
from app.extensions import db
from app.labs.models import Offer, Session, SessionStatus, Venue
from app.schools.holidays import import_holidays
from app.timeutil import to_local
from tests import factories

from .test_series_journey import _sign_in


def _fill(browser, field_id: str, value: str) -> None:
    el = browser.find_element(By.ID, field_id)
    el.clear()
    el.send_keys(value)


def _set_date(browser, field_id: str, value: date) -> None:
    # a date input takes its value typed in the browser's locale order (nl: dd-mm-jjjj)
    browser.execute_script(
        "arguments[0].value = arguments[1]", browser.find_element(By.ID, field_id), value.isoformat()
    )


def _submit(browser, text: str) -> None:
    browser.find_element(By.XPATH, f"//main//button[normalize-space()='{text}']").click()


def _wait_for(browser, text: str) -> None:
    try:
        WebDriverWait(browser, 10).until(lambda d: text in d.page_source)
    except Exception:
        print(browser.find_element(By.TAG_NAME, "main").text)
        raise


def test_coordinator_sets_up_a_techlab_and_cancels_a_session(app, live_server, browser, mailbox, drain_outbox):
    region = factories.region(holiday_region=HolidayRegion.MIDDEN)
    import_holidays()
    coord = factories.user("coordinator", region=region)
    schools = [factories.school(region, name=n) for n in ("De Zonnewijzer", "Het Kompas")]
    teachers = [factories.teacher(s) for s in schools]
    email, teacher_ids, school_ids = coord.email, [t.id for t in teachers], [s.id for s in schools]
    db.session.commit()
    db.session.remove()

    _sign_in(browser, live_server, email)
    browser.get(live_server + "/beheer/")
    browser.find_element(By.LINK_TEXT, "Nieuwe locatie").click()
    Select(browser.find_element(By.ID, "kind")).select_by_value("techlab")
    for field_id, value in (
        ("name", "Techlab Zutphen"),
        ("organisation", "Baudartius College"),
        ("street", "Isendoornstraat"),
        ("house_number", "1"),
        ("postcode", "7201 NJ"),
        ("city", "Zutphen"),
        ("accessibility", "Lift naar de eerste verdieping"),
    ):
        _fill(browser, field_id, value)
    _submit(browser, "Opslaan")
    _wait_for(browser, "De locatie is opgeslagen.")

    offer_ids = []
    for title, world in (("Solderen en sensoren", "hitech_science"), ("Bruggen bouwen", "wonen_werken_verkeer")):
        browser.get(live_server + "/beheer/")
        browser.find_element(By.LINK_TEXT, "Nieuw aanbod").click()
        _fill(browser, "title", title)
        Select(browser.find_element(By.ID, "world")).select_by_value(world)
        Select(browser.find_element(By.ID, "venue_id")).select_by_visible_text("Techlab Zutphen")
        _fill(browser, "school_year", "2026")
        _fill(browser, "groep_min", "6")
        _fill(browser, "capacity_classes", "2")
        _fill(browser, "capacity_pupils", "60")
        _submit(browser, "Opslaan")
        _wait_for(browser, "Het aanbod is opgeslagen.")
        offer_ids.append(int(browser.current_url.rstrip("/").split("/")[-1]))
        _submit(browser, "Publiceren")
        _wait_for(browser, "Verbergen")

        browser.get(f"{live_server}/beheer/aanbod/{offer_ids[-1]}/plannen")
        for day in ("2", "4"):  # Tuesdays and Thursdays
            browser.find_element(By.CSS_SELECTOR, f"input[name=weekdays][value='{day}']").click()
        browser.execute_script("arguments[0].value = '09:00'", browser.find_element(By.ID, "start"))
        _set_date(browser, "first_day", date(2026, 9, 1))
        _set_date(browser, "last_day", date(2027, 1, 31))
        _submit(browser, "Voorbeeld")
        _wait_for(browser, "Kerstvakantie")
        assert "Herfstvakantie" in browser.page_source
        _submit(browser, "Lessen aanmaken")
        _wait_for(browser, "lessen aangemaakt")

    venue = db.session.scalar(select(Venue).where(Venue.name == "Techlab Zutphen"))
    assert venue.latitude is not None and venue.accessibility == "Lift naar de eerste verdieping"
    for oid in offer_ids:
        offer = db.session.get(Offer, oid)
        assert offer.published and offer.venue_id == venue.id and offer.groep_min == 6
        days = [to_local(s.starts_at) for s in db.session.scalars(select(Session).where(Session.offer_id == oid))]
        assert len(days) > 20 and {d.isoweekday() for d in days} == {2, 4} and {d.hour for d in days} == {9}
        assert not any(date(2026, 10, 17) <= d.date() <= date(2026, 10, 25) for d in days)  # autumn, midden
        assert not any(date(2026, 12, 19) <= d.date() <= date(2027, 1, 3) for d in days)  # Christmas

    # two schools book the first session in January; the coordinator cancels it in the browser
    session = db.session.scalar(
        select(Session)
        .where(Session.offer_id == offer_ids[0], func.date(Session.starts_at) >= date(2027, 1, 4))
        .order_by(Session.starts_at)
        .limit(1)
    )
    for school_id, tid in zip(school_ids, teacher_ids, strict=False):
        create_booking(db.session.get(factories.User, tid), session.id, ClassDetails(school_id, "7", 25, 2))
    session_id = session.id
    db.session.commit()
    db.session.remove()
    drain_outbox()
    mailbox.clear()

    browser.get(f"{live_server}/beheer/aanbod/{offer_ids[0]}/lessen")
    browser.find_element(By.ID, f"s-{session_id}").click()
    _submit(browser, "Annuleren")  # without a reason: refused, nothing cancelled
    _wait_for(browser, "Geef een reden")
    assert db.session.get(Session, session_id).status == SessionStatus.SCHEDULED
    db.session.remove()
    browser.find_element(By.ID, f"s-{session_id}").click()
    _fill(browser, "bulk-reason", "Het lokaal wordt verbouwd")
    _submit(browser, "Annuleren")
    _wait_for(browser, "de scholen krijgen bericht")

    session = db.session.get(Session, session_id)
    assert session.status == SessionStatus.CANCELLED and (session.booked_classes, session.booked_pupils) == (0, 0)
    statuses = db.session.scalars(select(Booking.status).where(Booking.session_id == session_id)).all()
    assert statuses == [BookingStatus.CANCELLED] * 2
    drain_outbox()
    recipients = sorted(m["To"] for m in mailbox)
    assert recipients == sorted(db.session.get(factories.User, t).email for t in teacher_ids)
    drain_outbox()
    assert all("Het lokaal wordt verbouwd" in m.get_body(("plain",)).get_content() for m in mailbox)
    db.session.remove()
