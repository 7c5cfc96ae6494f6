"""The browser sees the Dutch start page and can sign in with the keyboard alone; a browser
the tests quit is gone."""

import time
from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app.extensions import db
from tests import factories
from tests.e2e.conftest import make_browser


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


def _processes_using(marker: str) -> list[int]:
    """The processes whose command line holds ``marker``."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_a_quit_browser_leaves_no_process_behind():
    """Every browser test starts a browser; one that outlived quit() would pile up over a run
    (Debian's chromium-headless-shell script did: its browser kept running, hundreds by the end)."""
    driver = make_browser()
    profile = driver.capabilities["chrome"]["userDataDir"]
    driver.get("data:text/html,<p>hallo</p>")
    assert _processes_using(profile)  # the browser runs with its own profile directory
    driver.quit()
    deadline = time.monotonic() + 10
    while _processes_using(profile) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_using(profile) == []
