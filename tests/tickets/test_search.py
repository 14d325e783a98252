"""Full-text search (issue 18): Chinese by character bigrams (one character by prefix),
English words whole, over ticket text, notes and the customer; ranked, then limited to what
the user may see; hostile queries get a 400 or nothing, never a 500. Runs on SQLite (FTS5)
and PostgreSQL (tsvector + GIN) alike."""
import pytest
from sqlalchemy import text

from tests.conftest import PASSWORD
from ticketing.extensions import db
from ticketing.search import index
from ticketing.search.tokens import index_text, query_terms


def _search(api, who, q, **params):
    response = api.get(who, "/search/tickets", query_string={"q": q, **params})
    assert response.status_code == 200, response.get_json()
    return [item["number"] for item in response.get_json()["items"]]


def _listed(api, who, q):
    response = api.get(who, "/tickets", query_string={"text": q})
    assert response.status_code == 200, response.get_json()
    return {item["number"] for item in response.get_json()["items"]}


def test_tokens_are_bigrams_plus_the_last_character_and_whole_words():
    assert index_text("停水了 WiFi-Router") == "停水 水了 了 wifi router"
    assert query_terms("水") == [("水", True)]
    assert query_terms("停水了 wifi") == [("停水", False), ("水了", False), ("wifi", False)]
    assert query_terms("\"*' NEAR(") == [("near", False)]


def test_postgresql_stores_each_chinese_character_as_a_key_too():
    from ticketing.search.tokens import with_characters
    assert with_characters(index_text("停水了 wifi")) == "停水 水了 了 wifi 停 水"
    assert with_characters("wifi 7") == "wifi 7"


def test_two_character_chinese_query_finds_the_bigram(api, people):
    signal = api.open(description="电视没有信号")
    api.open(description="宽带经常掉线")
    assert _search(api, "supervisor", "信号") == [signal["number"]]
    assert _listed(api, "supervisor", "信号") == {signal["number"]}
    assert _search(api, "supervisor", "没有信号") == [signal["number"]]
    assert _search(api, "supervisor", "号信") == []  # bigrams are ordered


def test_one_character_query_matches_by_prefix_anywhere_in_a_run(api, people):
    signal = api.open(description="电视没有信号")  # 号 ends its run
    broadband = api.open(description="宽带经常掉线")
    assert _search(api, "supervisor", "号") == [signal["number"]]
    assert _search(api, "supervisor", "宽") == [broadband["number"]]
    assert _search(api, "supervisor", "视") == [signal["number"]]
    assert _search(api, "supervisor", "雨") == []


def test_mixed_chinese_and_english_must_all_match_and_english_matches_whole_words(api, people):
    both = api.open(description="光猫红灯闪烁，WiFi连不上")
    api.open(description="光猫正常")
    router = api.open(description="Router keeps rebooting")
    assert _search(api, "supervisor", "光猫 wifi") == [both["number"]]
    assert _search(api, "supervisor", "WIFI 光猫") == [both["number"]]
    assert _search(api, "supervisor", "router") == [router["number"]]
    assert _search(api, "supervisor", "route") == []  # a word, not a substring


def test_notes_of_the_history_are_searchable_in_the_same_transaction(api, people):
    ticket = api.open(description="客户来电")
    assert _search(api, "supervisor", "光猫") == []
    assert api.fire("ops", ticket["id"], "terminate", note="更换光猫后恢复").status_code == 200
    assert _search(api, "supervisor", "光猫") == [ticket["number"]]
    assert _listed(api, "supervisor", "更换光猫") == {ticket["number"]}


def test_a_refused_transition_leaves_its_note_out_of_the_index(api, people):
    ticket = api.open(description="客户来电")
    stale = api.fire("ops", ticket["id"], "terminate", version=ticket["version"] + 5,
                     note="不应出现的备注")
    assert stale.status_code == 409
    assert _search(api, "supervisor", "备注") == []


def test_customer_name_account_and_address_are_searchable_and_follow_edits(api, people):
    created = api.post("agent", "/customers", {
        "account_no": "KH900001", "name": "欧阳娜娜", "address": "北京市朝阳区建国路18号",
        "phones": ["13811112222"]})
    customer = created.get_json()
    # The caller gave another name: the customer's comes from the customer record.
    ticket = api.open(customer_id=customer["id"], caller_name="王先生", description="电视没有信号")
    assert _search(api, "supervisor", "欧阳娜娜") == [ticket["number"]]
    assert _search(api, "supervisor", "建国路 信号") == [ticket["number"]]
    assert _search(api, "supervisor", "KH900001") == [ticket["number"]]
    renamed = api.client.patch(f"/api/v1/customers/{customer['id']}",
                               json={"name": "欧阳菲菲", "version": customer["version"]},
                               headers=api.headers("agent"))
    assert renamed.status_code == 200, renamed.get_json()
    assert _search(api, "supervisor", "娜娜") == []
    assert _search(api, "supervisor", "欧阳菲菲") == [ticket["number"]]


def test_results_are_ranked_by_relevance_not_by_age(api, people):
    strong = api.open(description="停电停电，小区停电，整栋楼停电")
    weak = api.open(description="客户说上周停电过一次，现在电视机顶盒无法开机，遥控器也失灵，"
                                "家里老人独居，希望尽快安排师傅上门检查线路和设备")
    assert _search(api, "supervisor", "停电") == [strong["number"], weak["number"]]
    # The list filter keeps its order: newest first.
    response = api.get("supervisor", "/tickets", query_string={"text": "停电"})
    assert [i["number"] for i in response.get_json()["items"]] == [weak["number"],
                                                                   strong["number"]]


def test_results_are_limited_to_what_the_user_may_see(api, people):
    consult = api.open(kind="consult", description="燃气表读数异常")  # operations
    complaint = api.open(kind="complaint", description="燃气表读数异常，投诉")  # inspection
    assert set(_search(api, "supervisor", "燃气表")) == {consult["number"], complaint["number"]}
    assert _search(api, "ops", "燃气表") == [consult["number"]]
    assert _search(api, "inspector", "燃气表") == [complaint["number"]]
    assert _listed(api, "ops", "燃气表") == {consult["number"]}
    assert _search(api, "team1", "燃气表") == []
    assert api.get("callback", "/search/tickets", query_string={"q": "燃气"}).status_code in (
        200, 403)


HOSTILE = ['"', "*", "NEAR", "OR", "'", '"信号', '信号"', "信号 OR 掉线", "NEAR(信号 掉线)",
           "信号*", "'; DROP TABLE tickets; --", "\" OR 1=1 --", "信号 AND NOT 掉线", "^信号",
           "body:信号", "信号 | 掉线", "信号 & !掉线", "信号:*", "(信号", "\\", "%", "_",
           "\x00", "🙂", "信号\u200b掉线", "<script>alert(1)</script>"]


@pytest.mark.parametrize("query", HOSTILE)
def test_fts_and_sql_syntax_is_plain_text_never_an_error(api, people, query):
    signal = api.open(description="电视没有信号")
    api.open(description="宽带掉线")
    for path, key in (("/search/tickets", "q"), ("/tickets", "text")):
        response = api.get("supervisor", path, query_string={key: query})
        assert response.status_code in (200, 400), (path, query, response.status_code)
        if response.status_code == 200:
            numbers = {i["number"] for i in response.get_json()["items"]}
            assert numbers <= {signal["number"]}, (path, query, numbers)  # never broadened
    page = api.client.get("/search", query_string={"q": query},
                          headers=api.headers("supervisor"))
    assert page.status_code in (200, 400, 401, 302)
    with api.app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM tickets")) == 2


def test_an_operator_in_the_query_is_a_word_to_find(api, people):
    api.open(description="电视没有信号")
    api.open(description="宽带掉线")
    assert _search(api, "supervisor", "信号 OR 掉线") == []  # no union: "or" is a word
    either = api.open(description="signal or broadband")
    assert _search(api, "supervisor", "signal OR broadband") == [either["number"]]


def test_overlong_and_empty_queries_get_a_clear_400(api, people):
    api.open(description="电视没有信号")
    for q in ("信" * 10_000, "a" * 201, "  "):
        response = api.get("supervisor", "/search/tickets", query_string={"q": q})
        assert response.status_code == 400, q[:10]
        body = response.get_json()
        assert body["error"] == "invalid_input" and "q" in body["fields"]
    listed = api.get("supervisor", "/tickets", query_string={"text": "信" * 10_000})
    assert listed.status_code == 400 and "text" in listed.get_json()["fields"]


def test_the_search_page_ranks_and_refuses_an_overlong_query(api, people, client):
    signal = api.open(description="电视没有信号")
    people["supervisor"]
    assert client.post("/login", data={"username": "supervisor",
                                       "password": PASSWORD}).status_code == 302
    html = client.get("/search", query_string={"q": "信号"}).get_data(as_text=True)
    assert signal["number"] in html
    assert "No ticket matches" in client.get("/search?q=xyzzy").get_data(as_text=True)
    assert client.get("/search", query_string={"q": "信" * 500}).status_code == 400


def test_backfill_rebuilds_the_index_from_tickets_notes_and_customers(api, people):
    customer = api.post("agent", "/customers", {"account_no": "KH900002", "name": "司马光",
                                                "phones": ["13811113333"]}).get_json()
    ticket = api.open(customer_id=customer["id"], description="电视没有信号")
    api.fire("ops", ticket["id"], "terminate", note="更换光猫后恢复")
    with api.app.app_context():
        db.session.execute(text(f"DELETE FROM {index.TABLE}"))
        db.session.commit()
    assert _search(api, "supervisor", "信号") == []
    with api.app.app_context():
        assert index.backfill(db.session.connection(), chunk=1) == 1
        db.session.commit()
    for q in ("信号", "光猫", "司马光", ticket["number"]):
        assert _search(api, "supervisor", q) == [ticket["number"]], q


def test_the_list_filter_finds_the_same_tickets_whatever_plan_sqlite_picks(api, people, app):
    """SQLite's list filter reads matches three ways by how common they are (index.FEW,
    index.COMMON); each way must give the same tickets, and each share its own way."""
    from ticketing.tickets.models import Ticket
    common = [api.open(description=f"电视没有信号 {i}")["id"] for i in range(12)]
    middling = [api.open(description=f"宽带经常掉线 {i}")["id"] for i in range(3)]
    rare = [api.open(description="遥控器失灵")["id"]]
    others = [api.open(description=f"其他问题 {i}")["id"] for i in range(24)]
    assert len(common + middling + rare + others) == 40
    with app.app_context():
        connection = db.session.connection()

        def found(query, plan=None):
            clause = index.list_text_clause(connection, query, Ticket.id, plan)
            return set(db.session.scalars(db.select(Ticket.id).where(clause)))

        for query, ids in (("信号", common), ("掉线", middling), ("遥控", rare)):
            assert found(query) == set(ids)
            if connection.dialect.name == "sqlite":
                assert found(query, "lookup") == found(query, "set") \
                    == found(query, "probe") == set(ids)
        if connection.dialect.name == "sqlite":
            # 40 tickets: 4 matches or more is common (probed along the list's walk), fewer
            # than 0.08 is none at this size (so a rare word is read as a set).
            assert index.list_text_plan(connection, "信号", Ticket.id) == "probe"
            assert index.list_text_plan(connection, "掉线", Ticket.id) == "set"
            assert index.list_text_plan(connection, "遥控", Ticket.id) == "set"


def test_windows_of_recent_tickets_give_what_one_query_over_everything_gives(
        api, people, app, monkeypatch):
    """PostgreSQL reads the newest matches a window of recent tickets at a time
    (index.newest_matches); with windows from 2 tickets on, every page of the list and the
    ranked search's candidates are the ones a single query over all tickets gives. On
    SQLite (one window: everything) the same assertions hold."""
    from datetime import datetime, timezone
    from ticketing import clock
    from ticketing.search import queries as search_queries
    numbers = {}
    clock.freeze(datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc))
    for i in range(30):  # every third ticket matches, the newest ones do not; 13 h apart
        description = "水表漏水" if i % 3 == 0 and i < 27 else f"其他问题 {i}"
        numbers[api.open(description=description)["number"]] = description
        clock.advance(hours=13)
    matching = [number for number, description in numbers.items() if "水表" in description]

    def pages(who):
        found, cursor = [], None
        while True:
            params = {"text": "水表", "limit": 2, **({"cursor": cursor} if cursor else {})}
            body = api.get(who, "/tickets", query_string=params).get_json()
            found += [item["number"] for item in body["items"]]
            cursor = body.get("next_cursor")
            if not cursor:
                return found

    everything = pages("supervisor")
    assert everything == list(reversed(matching))  # newest first
    department = pages("ops")
    assert department and set(department) <= set(everything)
    with app.app_context():
        connection = db.session.connection()
        asked = []

        def read(since):  # what the windows ask: 2 tickets back, then wider
            asked.append(since)
            return connection.execute(index.matching_ids(connection, "水表", since)
                                      ).scalars().all()

        monkeypatch.setattr(index, "FIRST_WINDOW", 2)
        newest = index.newest_matches(connection, 4, read)
        every_match = sorted(connection.execute(index.matching_ids(connection, "水表"))
                             .scalars(), reverse=True)
        windowed = connection.dialect.name == "postgresql"  # SQLite's index has no windows
        db.session.remove()
    assert len(every_match) == 9 and set(every_match[:4]) <= set(newest)
    bounds = asked
    assert bounds[:-1] == sorted(bounds[:-1], reverse=True) and len(bounds) >= 1 + windowed
    assert all(bound.hour == bound.minute == 0 for bound in bounds if bound is not None)
    monkeypatch.setattr(search_queries, "CANDIDATES", 4)
    assert pages("supervisor") == everything
    assert pages("ops") == department
    # The ranked search ranks the newest CANDIDATES + 1 matches: the five newest here.
    body = api.get("supervisor", "/search/tickets", query_string={"q": "水表"}).get_json()
    assert body["capped"] is True
    assert set(item["number"] for item in body["items"]) == set(everything[:5])


@pytest.mark.parametrize("days_back", [0, 1, 7, 8, 9, 63, 64, 65, 200, 400])
def test_a_window_asks_for_every_day_from_its_bound_and_none_before(app, days_back):
    """index.window_query: day, 8-day and 64-day recency tokens that together cover every
    day from the window's first day to tomorrow, and no day before it."""
    from datetime import datetime, timezone
    from ticketing import clock
    clock.freeze(datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc))
    today = (clock.utcnow() - index.EPOCH) // index.DAY
    since = index.EPOCH + (today - days_back) * index.DAY
    tsquery = index.window_query(since).clause.value
    covered = set()
    for term in tsquery.split(" | "):
        tag, number = term.strip("'")[1], int(term.strip("'")[2:])
        width = {"d": 1, "w": 8, "q": 64}[tag]
        covered |= set(range(number * width, (number + 1) * width))
    first = today - days_back
    assert min(covered) == first
    assert set(range(first, today + 2)) <= covered
    assert len(tsquery.split(" | ")) <= 7 + 7 + days_back // 64 + 2
