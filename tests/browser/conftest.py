"""The browser suite: Playwright driving Debian's Chromium (/usr/bin/chromium) against the app
served by a real HTTP server on a free 127.0.0.1 port, one fresh database per test.

Never a downloaded browser: without /usr/bin/chromium (or the playwright package) every test
here is skipped. One Chromium per xdist worker, with a fresh profile directory; each test
starts with no cookies. Screenshots go to tests/browser/screenshots/ (gitignored) or
$BROWSER_SCREENSHOTS."""
import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from ticketing.extensions import db
import types

from babel.support import Translations
from sqlalchemy import select

from ticketing.auth.models import Department
from ticketing.auth.operations import create_user
from ticketing.customers.models import Customer, CustomerPhone
from ticketing.tickets.models import Ticket
from ticketing.tickets.operations import fire_event, open_ticket

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS")
                   or Path(__file__).parent / "screenshots")
PASSWORD = "correct-horse-9"
TIMEOUT_MS = 30_000  # generous: a loaded CI machine is slow, a failure still ends

if not os.path.exists(CHROMIUM):
    pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def pytest_collection_modifyitems(config, items):
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def app_config():
    # The real CSRF rule, and no SERVER_NAME: the server answers on 127.0.0.1:<port>.
    return {"WTF_CSRF_ENABLED": True, "SERVER_NAME": None, "LOGIN_RATE_LIMIT": "1000 per minute"}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request drowns the failures
        pass


@pytest.fixture
def live_server(app):
    """The app behind a threaded werkzeug server on a free port; stopped after the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """One headless Chromium per worker, with a fresh profile (user-data) directory."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1366, "height": 768}, timezone_id="Asia/Shanghai")
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


class Browser:
    """One page of the shared Chromium, pointed at the live server, with the checks every
    step makes: the page has a title, every form field a label, no server error."""

    def __init__(self, context, base_url: str):
        self.context, self.base = context, base_url
        context.clear_cookies()
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def url(self, path: str) -> str:
        return self.base + path

    def goto(self, path: str):
        response = self.page.goto(self.url(path))
        self.check()
        return response

    def check(self) -> None:
        """Accessibility and sanity of the page on screen."""
        page = self.page
        title = page.title().strip()
        assert title, f"{page.url} has no title"
        unlabelled = page.evaluate(UNLABELLED_FIELDS_JS)
        assert not unlabelled, f"{page.url}: fields without a label: {unlabelled}"
        assert not self.errors, f"{page.url}: script errors {self.errors}"
        body = page.locator("body").inner_text()
        assert "Internal Server Error" not in body and "Traceback" not in body, page.url

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.page.goto(self.url("/login"))
        self.check()
        self.page.locator("input[name=username]").fill(username)
        self.page.locator("input[name=password]").fill(password)
        self.page.locator("form button[type=submit]").click()
        self.page.wait_for_load_state()
        self.check()
        assert "/login" not in self.page.url, self.text()

    def logout(self) -> None:
        self.page.locator("header form[action$=\"/logout\"] button").click()
        self.page.wait_for_load_state()
        self.check()

    def text(self, selector: str = "body") -> str:
        return self.page.locator(selector).first.inner_text()

    def click(self, role: str, name, **kwargs) -> None:
        self.page.get_by_role(role, name=name, **kwargs).first.click()
        self.page.wait_for_load_state()
        self.check()

    def submit(self, button) -> None:
        """Click a submit button and wait for the page it leads to."""
        with self.page.expect_navigation():
            button.click()
        self.check()

    def flash(self) -> str:
        return " ".join(self.page.locator(".flash").all_inner_texts())

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.page.close()


# Every visible input, select and textarea needs a name a screen reader reads out: a
# <label for>, a wrapping <label>, aria-label or aria-labelledby.
UNLABELLED_FIELDS_JS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
    const labelled = (el.labels && el.labels.length > 0 && [...el.labels].some(l => l.textContent.trim()))
      || (el.getAttribute('aria-label') || '').trim()
      || el.getAttribute('aria-labelledby');
    if (!labelled) bad.push(el.outerHTML.slice(0, 120));
  }
  return bad;
}"""


@pytest.fixture
def browser(chromium, live_server):
    b = Browser(chromium, live_server)
    yield b
    b.close()


@pytest.fixture
def in_app(app):
    """Run fn() in an app context and commit: setting the scene past the browser."""

    def run(fn, *args, **kwargs):
        with app.app_context():
            result = fn(*args, **kwargs)
            db.session.commit()
            return result

    return run


# --- setting the scene: people, customers and tickets made by the real operations -----------
_CATALOGUE = Path(__file__).resolve().parents[2] / "ticketing" / "translations"
_ZH = Translations.load(str(_CATALOGUE), ["zh"])


def words(locale: str):
    """words("zh")("Call screen") -> "来电受理": what the page says in that language."""
    if locale.startswith("zh"):
        return lambda text, **values: _ZH.gettext(text) % values if values \
            else _ZH.gettext(text)
    return lambda text, **values: text % values if values else text


def person(username: str, role: str, department: str | None, full_name: str = "",
           locale: str = "zh") -> int:
    user = create_user(username, PASSWORD, [role], department,
                       full_name=full_name or username.title(), locale=locale)
    db.session.flush()
    return user.id


def customer(name: str, phone: str, account_no: str, tier: str = "ordinary") -> int:
    row = Customer(account_no=account_no, name=name, address="北京市朝阳区建国路1号",
                   area="朝阳区", tier=tier, notes="")
    row.phones = [CustomerPhone(number=phone)]
    db.session.add(row)
    db.session.flush()
    return row.id


def department_id(code: str) -> int:
    return db.session.scalar(select(Department.id).where(Department.code == code))


def ticket(kind: str = "repair", customer_id: int | None = None, events=(), actor=None,
           **fields) -> tuple[int, str]:
    """Open a ticket and fire `events` ((name, fields) pairs) on it: (id, number)."""
    fields.setdefault("description", "电视没有信号")
    if customer_id is None:
        fields.setdefault("caller_phone", "13800138000")
    row = open_ticket(actor, kind=kind, customer_id=customer_id, **fields)
    for event, data in events:
        fire_event(actor, row, event, dict(data))
    db.session.flush()
    return row.id, row.number


def fire(ticket_id: int, event: str, actor=None, **data) -> None:
    fire_event(actor, db.session.get(Ticket, ticket_id), event, data)


@pytest.fixture
def scene():
    return types.SimpleNamespace(person=person, customer=customer, department_id=department_id,
                                 ticket=ticket, fire=fire, words=words)
