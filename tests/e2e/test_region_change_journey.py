"""An administrator reassigns a municipality to another region in the browser (on a 375 px
wide screen): sees the preview (schools, teachers, upcoming bookings), confirms, and undoes
it; the reach of the past school year never changes, and everything is back as it was.
A programme leader does the same for a municipality of their own region, from their
dashboard, on a desktop and on a 375 px phone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from app.auth.models import User
from app.booking.models import BookingStatus
from app.extensions import db
from app.schools.models import School
from app.timeutil import school_year_of
from tests import factories
from tests.e2e.conftest import make_browser
from tests.reporting.test_reach import book

from .test_series_journey import _sign_in


@pytest.fixture
def narrow_browser():
    driver = make_browser(375, 800)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_for(browser, text: str) -> None:
    try:
        WebDriverWait(browser, 10).until(lambda d: text in d.page_source)
    except Exception:
        print(browser.page_source[:3000])
        raise


def _reach(browser, base, region_id, year) -> tuple[str, str]:
    browser.get(f"{base}/bereik/?region={region_id}&school_year={year}")
    return (browser.find_element(By.ID, "headline-schools").text, browser.find_element(By.ID, "headline-pupils").text)


def _achterhoek_with_a_past_year(role: str) -> tuple[dict, str, str, int]:
    """Two regions; Achterhoek's past school year reached two of its three schools (two in
    Oude IJsselstreek, 1509). Returns the ids, the email of a ``role`` account, the code of
    Liemers and that past year."""
    past = school_year_of(datetime.now(timezone.utc)) - 1
    old, new = factories.region(name="Achterhoek"), factories.region(name="Liemers")
    lab = factories.venue(old, latitude=52.0, longitude=6.3)
    offer = factories.offer(old, lab, school_year=past, capacity_classes=5, capacity_pupils=200)
    a = factories.school(old, name="De Wieken", municipality_code="1509", municipality_name="Oude IJsselstreek")
    b = factories.school(old, name="Het Palet", municipality_code="1509", municipality_name="Oude IJsselstreek")
    c = factories.school(old, name="De Bongerd", municipality_code="0222", municipality_name="Doetinchem")
    for s in (a, b, c):
        factories.enrol(s, past, per_groep=20)
    when = datetime(past, 10, 6, 8, 0, tzinfo=timezone.utc)
    book(factories.session(offer, when), a, BookingStatus.ATTENDED, 7, 7, 25, attended=24)
    book(factories.session(offer, when + timedelta(days=7)), c, BookingStatus.ATTENDED, 6, 6, 22, attended=22)
    teacher = factories.teacher(a)
    actor = factories.user(role, region=old if role != "admin" else None)
    ids = dict(old=old.id, new=new.id, a=a.id, teacher=teacher.id)
    email, new_code = actor.email, new.code
    db.session.commit()
    db.session.remove()
    return ids, email, new_code, past


def _in_region(ids, school_region: str, teacher_region: str) -> None:
    db.session.expire_all()
    assert db.session.get(School, ids["a"]).region_id == ids[school_region]
    assert db.session.get(User, ids["teacher"]).region_id == ids[teacher_region]
    db.session.remove()  # end the test's read (SQLite: the server writes next)


def _preview_and_confirm(browser, ids, new_code) -> None:
    """On the region page: Oude IJsselstreek to Liemers, the preview checked, then confirmed."""
    Select(browser.find_element(By.ID, "region")).select_by_visible_text(f"Liemers ({new_code})")
    Select(browser.find_element(By.ID, "area")).select_by_value("municipality")
    browser.find_element(By.ID, "codes").send_keys("1509")
    browser.find_element(By.XPATH, "//main//button[normalize-space()='Bekijk wat er verandert']").click()
    _wait_for(browser, "Voorbeeld: wat verandert er?")
    preview = browser.find_element(By.ID, "preview").text
    assert "2 scholen gaan naar Liemers" in preview and "1 leerkracht gaat mee met de school." in preview
    assert "De Wieken" in preview and "Het Palet" in preview and "De Bongerd" not in preview
    _in_region(ids, "old", "old")  # nothing changed yet
    browser.find_element(By.XPATH, "//main//button[normalize-space()='Bevestigen en toewijzen']").click()
    _wait_for(browser, "2 scholen zijn toegewezen aan Liemers")
    _in_region(ids, "new", "new")


def test_admin_reassigns_a_municipality_with_a_preview_and_undoes_it(app, live_server, narrow_browser):
    browser = narrow_browser
    ids, admin_email, new_code, past = _achterhoek_with_a_past_year("admin")

    _sign_in(browser, live_server, admin_email)
    before = _reach(browser, live_server, ids["old"], past)
    assert before[0].startswith("67%") and "2 van 3" in before[0]

    browser.get(live_server + "/regiobeheer/schoolgegevens/regio")
    _preview_and_confirm(browser, ids, new_code)
    assert _reach(browser, live_server, ids["old"], past) == before  # the past school year: unchanged
    moved = _reach(browser, live_server, ids["new"], past)
    assert re.match(r"^(0%|—)", moved[0])  # the new region had no schools then

    browser.get(live_server + "/regiobeheer/schoolgegevens/regio")
    browser.find_element(By.XPATH, "//main//button[starts-with(normalize-space(), 'Ongedaan maken')]").click()
    _wait_for(browser, "De wijziging is ongedaan gemaakt")
    _in_region(ids, "old", "old")
    assert _reach(browser, live_server, ids["old"], past) == before


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 812)], ids=["desktop", "phone"])
def test_programme_leader_gives_a_municipality_away_with_a_preview_and_undoes_it(app, live_server, viewport):
    ids, leader_email, new_code, past = _achterhoek_with_a_past_year("programme_leader")
    browser = make_browser(*viewport)
    try:
        _sign_in(browser, live_server, leader_email)
        before = _reach(browser, live_server, ids["old"], past)
        assert before[0].startswith("67%") and "2 van 3" in before[0]

        browser.get(live_server + "/regiobeheer/")  # the programme leader's dashboard (Regiobeheer)
        browser.find_element(By.XPATH, "//main//a[normalize-space()='Scholen aan een regio toewijzen']").click()
        _wait_for(browser, "Als programmaleider kunt u gemeenten van uw eigen regio")
        _preview_and_confirm(browser, ids, new_code)
        assert _reach(browser, live_server, ids["old"], past) == before  # the past school year: unchanged

        browser.get(live_server + "/regiobeheer/schoolgegevens/regio")
        undo = browser.find_element(By.XPATH, "//main//button[starts-with(normalize-space(), 'Ongedaan maken')]")
        undo.send_keys(Keys.ENTER)  # by keyboard
        _wait_for(browser, "De wijziging is ongedaan gemaakt")
        _in_region(ids, "old", "old")
        assert _reach(browser, live_server, ids["old"], past) == before
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        browser.quit()
