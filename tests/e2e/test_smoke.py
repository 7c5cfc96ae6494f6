"""The browser sees the Dutch start page and can sign in with the keyboard alone."""

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app.extensions import db
from tests import factories


def test_sign_in_with_keyboard_only(app, live_server, browser):
    region = factories.region()
    school = factories.school(region)
    email = factories.teacher(school).email
    # end the test's transaction: on SQLite an open one holds the write lock
    db.session.commit()
    db.session.remove()

    browser.get(live_server + "/inloggen")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"
    # the skip link is the first thing the keyboard reaches
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element.get_attribute("class") == "skip-link"
    field = browser.find_element(By.ID, "email")
    field.send_keys(email)
    field.send_keys(Keys.TAB)
    browser.switch_to.active_element.send_keys(factories.PASSWORD + Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: "U bent ingelogd." in d.page_source)
    assert browser.current_url.rstrip("/") == live_server
