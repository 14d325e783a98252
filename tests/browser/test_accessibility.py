"""Every page an admin can reach from the menu, and the pages behind it (a ticket, the call
screen after a lookup, each admin form), in both languages: each has a title and every form
field a label (conftest.Browser.check), and nothing fails in the page's script."""
import pytest

from ticketing.demo import seed_demo

DEMO_PASSWORD = "demo-pass-2026"


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_page_has_a_title_and_every_field_a_label(browser, in_app, locale):
    in_app(seed_demo, customers=20, password=DEMO_PASSWORD)
    browser.goto(f"/login?lang={locale}")
    browser.login("admin", DEMO_PASSWORD)
    if locale == "en":
        browser.page.locator("header form.lang-switch button[value=en]").click()
        browser.page.wait_for_load_state()
        browser.check()
    menu = browser.page.locator("nav.mainnav a")
    paths = [menu.nth(i).get_attribute("href") for i in range(menu.count())]
    assert len(paths) >= 8
    visited = set()
    for path in paths + ["/tickets/1", "/tickets?tab=open&sort=deadline", "/call?phone=KH100000",
                         "/admin/users/new", "/admin/roles/new", "/admin/departments/new",
                         "/admin/fault-categories/new", "/sla/policies/new", "/preferences",
                         "/customers/new", "/announcements/new", "/no-such-page"]:
        browser.goto(path)  # checks title, labels, script errors, no server error
        visited.add(path)
        if path in ("/", "/tickets/1"):
            browser.screenshot(f"a11y-{locale}-{path.strip('/').replace('/', '-') or 'home'}")
    assert "/admin/departments" in visited and "/admin/fault-categories" in visited
