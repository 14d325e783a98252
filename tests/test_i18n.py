"""The Chinese catalogue is kept current: every marked string is translated and compiled."""
import os

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PO = os.path.join(ROOT, "ticketing", "translations", "zh", "LC_MESSAGES", "messages.po")
MO = PO[:-3] + ".mo"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _marked_strings() -> set[str]:
    with open(os.path.join(ROOT, "babel.cfg")) as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalogue(path=PO):
    with open(path, "rb") as handle:
        return read_po(handle)


def test_every_marked_string_has_a_chinese_translation():
    catalogue = _catalogue()
    untranslated = sorted(m for m in _marked_strings()
                          if not (catalogue.get(m) and catalogue.get(m).string))
    assert not untranslated, f"run tools/i18n update and translate: {untranslated[:20]}"


def test_compiled_catalogue_matches_the_po_file():
    with open(MO, "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    source = {m.id: m.string for m in _catalogue() if m.id and m.string and not m.fuzzy}
    assert compiled == source, "run tools/i18n compile"


def test_pages_render_in_chinese_and_english(client):
    zh = client.get("/login", headers={"Accept-Language": "zh-CN"})
    en = client.get("/login", headers={"Accept-Language": "en"})
    assert "登录".encode() in zh.data
    assert b"Log in" in en.data


def test_ticket_queue_follows_a_chinese_users_language(client, auth, make_user):
    user = make_user("agent", "call_center", locale="zh")
    auth.login(user.username)
    page = client.get("/tickets", headers={"Accept-Language": "en"})  # the user's choice wins
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "<h1>工单</h1>" in html and "工单号" in html and "我经手的" in html
    assert "<h1>Tickets</h1>" not in html and "Handled by me" not in html


def test_ticket_queue_follows_an_english_users_language(client, auth, make_user):
    user = make_user("agent", "call_center", locale="en")
    auth.login(user.username)
    page = client.get("/tickets", headers={"Accept-Language": "zh-CN"})  # the user's choice wins
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Tickets</h1>" in html and "Number" in html and "Handled by me" in html
    assert "<h1>工单</h1>" not in html and "我经手的" not in html
