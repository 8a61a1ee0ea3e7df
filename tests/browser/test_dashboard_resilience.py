"""The dashboard when things happen around it, in a real browser against the real server,
the real CLI and the demo model: a reload while a permission waits, hibernated sessions,
long tool output, the status filter and the keyboard, odd events, and a server restart
while the page is open (last: it restarts this module's server on the same port)."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser.pages import (
    Shot, back_to_list, conversation, heading, inline_permission, open_from_table, pending, rest_session, row, send,
    session_status,
)
from e2e_support import answer, send_in_background, status, wait_for_permissions, wait_until
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e

API_KEY = "dashboard-test-key"  # the key the conftest's `dashboard` fixture signs in with


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """This module's own server (its last test restarts it), without warm sessions."""
    with running_server(tmp_path_factory.mktemp("server"), "--demo", "--warm-sessions", "0", api_key=API_KEY) as live:
        yield live


def say(http: httpx.Client, session_id: str, text: str) -> dict[str, Any]:
    reply = http.post(f"/sessions/{session_id}/messages", json={"message": text}, timeout=120)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def listed(http: httpx.Client) -> dict[str, dict[str, Any]]:
    return {s["session_id"]: s for s in http.get("/sessions", params={"limit": 1000}).json()["sessions"]}


def cells(page: Page, session_id: str) -> list[str]:
    return [text.strip() for text in row(page, session_id).locator("td").all_inner_texts()]


TURNS, COST = 5, 6  # columns of the sessions table


def test_a_reload_while_a_permission_waits_shows_it_and_answers_it(
    dashboard: Page, server: ServerProcess, http: httpx.Client, workdir: Path, watched: Any, shot: Shot
) -> None:
    page = dashboard
    session_id = rest_session(http, workdir)
    turn = send_in_background(server, session_id, "run `seq 1 400 | tee seq.txt`")
    (request,) = wait_for_permissions(http, session_id)
    page.reload()  # what the panel shows now comes from the API, not from a live event
    expect(page.get_by_role("status", name="Event stream")).to_have_text("live")
    item = pending(page).get_by_role("listitem").filter(has_text="seq 1 400")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Bash")
    expect(row(page, session_id)).to_contain_text("waiting for permission")
    shot(page, "pending-after-reload")
    item.get_by_role("button", name="Allow", exact=True).click()
    expect(item).to_have_count(0)
    assert turn.result(timeout=120).status_code == 200
    assert (workdir / "seq.txt").read_text().splitlines()[-1] == "400"

    # 400 lines of tool output: collapsed, and the page does not grow sideways
    row(page, session_id).get_by_role("link", name=session_id[:8]).click()
    result = conversation(page).locator(".tool-use").filter(has_text="seq 1 400").locator("details.output")  # in its card
    expect(result.locator("summary")).to_have_text(re.compile(r"Output \(40\d lines\)"))
    assert result.get_attribute("open") is None
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, "long-output-collapsed")

    # answered elsewhere after a reload: it disappears too
    turn = send_in_background(server, session_id, "run `echo no > no.txt`")
    (request,) = wait_for_permissions(http, session_id)
    page.reload()  # in the session's view: the request shows once, inside its tool call's card
    item = inline_permission(page, "echo no > no.txt")
    expect(item).to_have_count(1)
    expect(item.get_by_role("button", name="Allow", exact=True)).to_be_visible()
    expect(conversation(page).locator(".user").filter(has_text="echo no > no.txt")).to_have_count(1)  # the turn once
    assert answer(http, session_id, request["request_id"], False).status_code == 200
    expect(item).to_contain_text("Denied")
    expect(item.get_by_role("button")).to_have_count(0)
    assert turn.result(timeout=120).status_code == 200
    assert not (workdir / "no.txt").exists()
    assert watched.errors == []


def test_a_hibernated_session_shows_its_history_without_waking_and_a_message_wakes_it(
    dashboard: Page, http: httpx.Client, workdir: Path, watched: Any, shot: Shot
) -> None:
    page = dashboard
    sleeper, awake = rest_session(http, workdir), rest_session(http, workdir)
    say(http, sleeper, "remember that my name is Grace")
    assert http.post(f"/sessions/{sleeper}/hibernate").status_code == 200
    expect(row(page, sleeper)).to_contain_text("hibernated")
    expect(row(page, awake)).to_contain_text("connected")

    page.get_by_label("Status", exact=True).select_option("hibernated")  # the filter
    expect(row(page, sleeper)).to_have_count(1)
    expect(row(page, awake)).to_have_count(0)
    page.get_by_label("Status", exact=True).select_option("connected")
    expect(row(page, sleeper)).to_have_count(0)
    expect(row(page, awake)).to_have_count(1)
    page.get_by_label("Status", exact=True).select_option("")
    expect(row(page, sleeper)).to_have_count(1)

    link = row(page, sleeper).get_by_role("link", name=sleeper[:8])  # the keyboard opens it
    link.focus()
    say(http, awake, "say ping")  # events redraw the table meanwhile: the focus stays
    expect(row(page, awake)).to_contain_text("say ping")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(heading(page, sleeper)).to_be_focused()  # the keyboard lands in the view it opened
    expect(session_status(page)).to_have_text("hibernated")
    expect(conversation(page)).to_contain_text("remember that my name is Grace")
    expect(conversation(page)).to_contain_text("my name is Grace.")
    shot(page, "hibernated-history")
    assert status(http, sleeper)["status"] == "hibernated"  # reading it did not wake it
    assert listed(http)[sleeper]["state"] == "hibernated"

    send(page, "what is my name?")  # a message wakes it
    expect(conversation(page).locator(".assistant").filter(has_text="Grace")).to_have_count(2)
    expect(session_status(page)).to_have_text("connected")
    expect(row(page, sleeper)).to_contain_text("connected")

    long = "x" * 3000  # one long word: wrapped in the conversation, the page does not grow sideways
    send(page, f"say {long}")
    expect(conversation(page).locator(".assistant").filter(has_text=long)).to_have_count(1)
    expect(session_status(page)).to_have_text("connected")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, "long-text")
    assert watched.errors == []


ODD_EVENTS = [
    {"type": "session_created"},
    {"type": "session_created", "session_id": "0" * 8},
    {"type": "session_status", "session_id": "11111111-1111-1111-1111-111111111111", "status": "running"},
    {"type": "turn_started", "session_id": "22222222-2222-2222-2222-222222222222", "message": "x"},
    {"type": "result", "session_id": "22222222-2222-2222-2222-222222222222", "turn_cost_usd": "n/a"},
    {"type": "error", "session_id": "22222222-2222-2222-2222-222222222222", "message": "boom", "reason": "process_exited"},
    {"type": "error"},
    {"type": "permission_resolved", "request_id": "not-known"},
    {"type": "permission_resolved"},
    {"type": "permission_request"},
    {"type": "permission_request", "request_id": "r1", "session_id": "33333333-3333-3333-3333-333333333333",
     "tool_name": None, "tool_input": None, "suggestions": "nope", "created_at": None},
    {"type": "tool_result", "content": {"odd": True}},
    {"type": "assistant_message", "content": [None, 3, {"type": "tool_use"}, {"type": "text"}]},
    {"type": "something_new", "session_id": "44444444-4444-4444-4444-444444444444"},
    {"type": "text_delta"},
    {},
]


def test_odd_events_do_not_break_the_page(page: Page, server: ServerProcess) -> None:
    """Events of unexpected shapes go through the store, the table, the panel and a
    conversation without an exception."""
    page.goto(f"{server.url}/ui")
    outcome = page.evaluate(
        """async (events) => {
          const { Store } = await import('/ui/static/store.js');
          const { renderSessions } = await import('/ui/static/sessions-table.js');
          const { renderPending } = await import('/ui/static/permissions.js');
          const { Conversation } = await import('/ui/static/conversation.js');
          const store = new Store();
          const known = [];
          const conversation = new Conversation(document.createElement('ol'), async () => {});
          for (const event of events) {
            known.push(store.apply(event));
            conversation.event(event);
          }
          const tbody = document.createElement('tbody');
          const list = document.createElement('ul');
          renderSessions(tbody, document.createElement('p'), store, '');
          renderPending(list, document.createElement('p'), store, async () => {});
          return { known, rows: tbody.children.length, pending: list.children.length, items: conversation.list.children.length };
        }""",
        ODD_EVENTS,
    )
    assert outcome["rows"] == 0 and outcome["pending"] == 1  # r1: shown, with its buttons
    assert outcome["items"] > 0


def test_a_replay_after_a_reconnection_is_not_counted_twice(page: Page, server: ServerProcess) -> None:
    """What the page does on a (re)connection: a snapshot (the newest id), a reload, and the
    replay of the events after its Last-Event-ID, some of which the reload already counts."""
    page.goto(f"{server.url}/ui")
    outcome = page.evaluate(
        """async () => {
          const { Store } = await import('/ui/static/store.js');
          const store = new Store();
          const s = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
          const entry = (turns, cost) => ({ session_id: s, status: 'connected', title: 't', turns, cost_usd: cost });
          store.finishReload([entry(1, 0.5)], []);
          store.since(20);  // a reconnection's snapshot: its reload reads everything up to id 20
          store.beginReload();
          store.apply({ id: 19, type: 'session_created', session_id: s, session: entry(0, 0) });  // replayed
          store.apply({ id: 20, type: 'result', session_id: s, turn_cost_usd: 0.25 });  // replayed
          store.apply({ id: 21, type: 'result', session_id: s, turn_cost_usd: 0.25 });  // during the reading
          store.finishReload([entry(3, 1.0)], []);  // the reading counts 20 and (maybe) 21
          const afterReload = { ...store.sessions.get(s), stale: store.stale };
          store.apply({ id: 22, type: 'result', session_id: s, turn_cost_usd: 0.25 });  // live
          return { afterReload, live: store.sessions.get(s) };
        }"""
    )
    assert outcome["afterReload"]["turns"] == 3 and outcome["afterReload"]["cost_usd"] == 1.0
    assert outcome["afterReload"]["stale"] is True  # the page reads once more
    assert outcome["live"]["turns"] == 4 and outcome["live"]["cost_usd"] == 1.25


def test_a_server_restart_while_the_page_is_open(
    dashboard: Page, server: ServerProcess, http: httpx.Client, workdir: Path, watched: Any, shot: Shot
) -> None:
    page = dashboard
    calm, asking = rest_session(http, workdir), rest_session(http, workdir)
    turn = send_in_background(server, asking, "run `echo late > late.txt`")
    wait_for_permissions(http, asking)
    allow = pending(page).get_by_role("listitem").filter(has_text="late.txt").get_by_role("button", name="Allow", exact=True)
    allow.focus()
    say(http, calm, "remember that the cat is called Tom")  # events redraw the panel: the focus stays
    expect(row(page, calm)).to_contain_text("remember that the cat")
    expect(allow).to_be_focused()
    row(page, calm).get_by_role("link", name=calm[:8]).click()
    expect(conversation(page)).to_contain_text("the cat is called Tom.")
    expect(row(page, calm).locator("td").nth(TURNS)).to_have_text("1")

    resumed: list[str | None] = []
    page.on("request", lambda r: resumed.append(r.headers.get("last-event-id")) if r.url.endswith("/events") else None)
    assert server.stop(signal.SIGTERM) is not None  # the pending request is parked, the sessions hibernate
    turn.result(timeout=60)
    expect(page.get_by_role("status", name="Event stream")).to_contain_text("retrying")
    shot(page, "server-down")
    server.log = server.log.with_name("server-restarted.log")
    server.start()  # the same server again: same port, data and workspace

    expect(page.get_by_role("status", name="Event stream")).to_have_text("live")
    expected = listed(http)
    assert expected[calm]["status"] == "hibernated" and expected[asking]["status"] == "waiting_permission"
    for session_id, entry in expected.items():
        expect(row(page, session_id)).to_have_count(1)
        expect(row(page, session_id)).to_contain_text("waiting for permission" if session_id == asking else "hibernated")
        expect(row(page, session_id).locator("td").nth(TURNS)).to_have_text(str(entry["turns"]))
    assert any(r is not None for r in resumed)  # it resumed with Last-Event-ID
    expect(session_status(page)).to_have_text("hibernated")
    expect(page.get_by_role("alert").filter(has_text="reconnecting")).to_have_count(0)
    shot(page, "reconnected")

    # the parked request waited across the restart: answered here, the session wakes and the tool runs
    back_to_list(page)
    parked = pending(page).get_by_role("listitem").filter(has_text="late.txt")
    expect(parked).to_have_count(1)
    parked.get_by_role("button", name="Allow", exact=True).click()
    expect(parked).to_have_count(0)
    wait_until(lambda: (workdir / "late.txt").exists(), what="late.txt, run after the restart")
    wait_until(lambda: listed(http)[asking]["status"] == "connected", what="the continued turn's end")

    # the stream goes on after the restart: a new request of another session counts in the
    # tab's title, shows once in the list's panel and is answered there
    turn = send_in_background(server, asking, "run `echo again > again.txt`")
    expect(page).to_have_title(re.compile(r"^\(1\) waiting"))
    item = pending(page).get_by_role("listitem").filter(has_text="again.txt")
    expect(item).to_have_count(1)
    item.get_by_role("button", name="Allow", exact=True).click()
    expect(item).to_have_count(0)
    assert turn.result(timeout=120).status_code == 200
    wait_until(lambda: (workdir / "again.txt").exists(), what="again.txt")
    expect(row(page, asking).locator("td").nth(TURNS)).to_have_text(str(listed(http)[asking]["turns"]))
    open_from_table(page, calm)
    send(page, "what did I ask you to remember?")
    expect(conversation(page).locator(".assistant").filter(has_text="Tom")).to_have_count(2)
    expect(conversation(page).locator(".user").filter(has_text="remember that the cat is called Tom")).to_have_count(1)
    assert watched.errors == []

