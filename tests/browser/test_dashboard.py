"""The dashboard in a real browser (Debian's Chromium, Playwright) against the real server,
the real Claude Code CLI and the demo model: sign-in, sessions, chat, permissions,
interrupt, controls, live updates from other clients, and agent text that must stay text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser.pages import (
    Shot, back_to_list, conversation, idle, inline_permission, open_from_table, pending, rest_session, row, send,
    session_status,
)
from e2e_support import answer, send_in_background, status, wait_for_permissions, wait_until
from servers import ServerProcess

pytestmark = pytest.mark.e2e


def test_sign_in_refuses_a_wrong_key_and_keeps_the_key_out_of_urls(watched: Any, server: ServerProcess, api_key: str, shot: Shot) -> None:
    page = watched.page
    requests: list[tuple[str, dict[str, str]]] = []
    page.on("request", lambda request: requests.append((request.url, request.headers)))
    page.goto(f"{server.url}/")
    assert page.url == f"{server.url}/ui"
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_role("table")).to_be_hidden()

    page.get_by_label("API key").fill("not-the-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid API key")
    expect(page.get_by_role("table")).to_be_hidden()
    expect(pending(page)).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    shot(page, "wrong-key")

    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("table")).to_be_visible()
    expect(page.get_by_role("status", name="Event stream")).to_have_text("live")
    expect(page.get_by_label("Server stats")).to_contain_text("Pending permissions")
    shot(page, "signed-in")
    assert page.evaluate("sessionStorage.getItem('claude-agent-server.api-key')") == api_key
    assert page.evaluate("document.cookie") == ""
    page.reload()  # the key survives a reload of the tab
    expect(page.get_by_role("status", name="Event stream")).to_have_text("live")
    expect(page.get_by_label("API key")).to_be_hidden()

    assert all(api_key not in url for url, _ in requests)
    api_calls = [headers for url, headers in requests if url.endswith(("/stats", "/events")) or "/sessions" in url]
    assert api_calls and any(h.get("authorization") == f"Bearer {api_key}" for h in api_calls)
    assert all(h.get("authorization") in (None, "Bearer not-the-key", f"Bearer {api_key}") for h in api_calls)
    assert watched.errors == []


def test_new_session_streams_a_reply_and_interrupt_stops_a_slow_turn(
    dashboard: Page, http: httpx.Client, workdir: Path, watched: Any, shot: Shot
) -> None:
    page = dashboard
    form = page.get_by_role("form", name="Start a session")
    form.get_by_label("Working directory").fill(str(workdir))
    form.get_by_role("button", name="New session").click()
    expect(page).to_have_url(re.compile(r"#session=[0-9a-f-]{36}$"))
    session_id = page.url.rsplit("=", 1)[1]
    expect(row(page, session_id)).to_contain_text("connected")
    (entry,) = [s for s in http.get("/sessions").json()["sessions"] if s["session_id"] == session_id]
    assert entry["origin"] == "dashboard" and entry["cwd"] == str(workdir)

    send(page, "remember that my name is Ada")
    expect(conversation(page)).to_contain_text("Got it, I'll remember: my name is Ada.")
    idle(page)
    expect(row(page, session_id)).to_contain_text("remember that my name is Ada")
    shot(page, "replied")

    send(page, "count slowly")
    streaming = conversation(page).locator(".streaming")
    expect(streaming).to_contain_text("Counting slowly: 1 2 3")  # text as it streams, before the turn ends
    expect(row(page, session_id)).to_contain_text("running")
    shot(page, "streaming")
    page.get_by_role("button", name="Interrupt").click()
    expect(conversation(page)).to_contain_text("Interrupted")
    idle(page)
    assert "Done." not in conversation(page).inner_text()
    shot(page, "interrupted")
    assert watched.errors == []


def test_allow_runs_the_command_and_deny_does_not(
    dashboard: Page, http: httpx.Client, workdir: Path, watched: Any, shot: Shot
) -> None:
    page = dashboard
    session_id = rest_session(http, workdir)
    row(page, session_id).get_by_role("cell").first.click()  # a click anywhere on the row opens it
    expect(page.get_by_role("heading", name=re.compile(f"^Session {session_id[:8]}"))).to_be_visible()

    send(page, "run `echo hi > allowed.txt`")
    card = conversation(page).locator(".tool-use").filter(has_text="echo hi > allowed.txt")
    item = inline_permission(page, "echo hi > allowed.txt")
    expect(item).to_contain_text("Permission needed")
    expect(row(page, session_id)).to_contain_text("waiting for permission")
    expect(page.get_by_text("echo hi > allowed.txt", exact=True).filter(visible=True)).to_have_count(1)  # once, in its card
    expect(page.get_by_role("button", name="Allow", exact=True)).to_have_count(1)
    stats = http.get("/stats").json()
    assert stats["pending_permissions"] == 1 and stats["turns_running"] == 1 and stats["cli_memory_bytes"] > 0
    expect(page).to_have_title(re.compile(r"^\(1\) waiting"))
    shot(page, "pending")
    item.get_by_role("button", name="Allow", exact=True).click()
    expect(item).to_contain_text("Allowed")
    wait_until(lambda: (workdir / "allowed.txt").exists(), what="allowed.txt")
    assert (workdir / "allowed.txt").read_text() == "hi\n"
    idle(page)
    expect(card.locator("details.output summary")).to_have_text(re.compile(r"^Output \(\d+ lines?\)$"))  # the result, in the card
    expect(page).not_to_have_title(re.compile("waiting"))

    send(page, "run `echo no > denied.txt`")
    inline = inline_permission(page, "echo no > denied.txt")
    inline.get_by_role("button", name="Deny", exact=True).click()
    expect(inline).to_contain_text("Denied")
    expect(conversation(page)).to_contain_text("did not run")
    idle(page)
    back_to_list(page)
    expect(pending(page).get_by_role("listitem")).to_have_count(0)
    assert not (workdir / "denied.txt").exists()
    shot(page, "denied")
    assert watched.errors == []


def test_changes_from_other_clients_show_without_reloading(
    dashboard: Page, server: ServerProcess, http: httpx.Client, workdir: Path, shot: Shot
) -> None:
    page = dashboard
    session_id = rest_session(http, workdir)
    expect(row(page, session_id)).to_contain_text("connected")

    turn = send_in_background(server, session_id, "run `echo x > rest.txt`")
    item = pending(page).get_by_role("listitem").filter(has_text="rest.txt")
    expect(item).to_contain_text("Bash")
    expect(row(page, session_id)).to_contain_text("waiting for permission")
    shot(page, "pending-from-rest")
    (request,) = wait_for_permissions(http, session_id)
    assert answer(http, session_id, request["request_id"], False).status_code == 200  # answered elsewhere
    expect(item).to_have_count(0)
    assert turn.result(timeout=120).status_code == 200
    expect(row(page, session_id)).to_contain_text("connected")
    expect(row(page, session_id)).to_contain_text("run `echo x > rest.txt`")

    assert http.delete(f"/sessions/{session_id}").status_code == 200
    expect(row(page, session_id)).to_have_count(0)
    shot(page, "closed-from-rest")


def test_agent_html_is_shown_as_text_and_runs_nothing(
    dashboard: Page, http: httpx.Client, workdir: Path, watched: Any, shot: Shot
) -> None:
    page = dashboard
    session_id = rest_session(http, workdir)
    open_from_table(page, session_id)
    payloads = ["<img src=x onerror=alert(1)>", "<script>window.pwned = 1; alert(2)</script>"]
    for payload in payloads:
        send(page, f"say {payload}")
        expect(conversation(page).locator(".assistant").filter(has_text=payload)).to_have_count(1)
        idle(page)
    # Markdown links with unsafe schemes stay text; a safe one opens in a new tab without an opener
    send(page, "say [x](javascript:alert(5)) [y](<javascript:alert(6)>) [z](data:text/html,hi) <a href=javascript:alert(7)>w</a> [ok](https://example.com/)")
    reply = conversation(page).locator(".assistant").filter(has_text="ok")
    expect(reply.get_by_role("link")).to_have_count(1)
    link = reply.get_by_role("link", name="ok")
    assert link.get_attribute("href") == "https://example.com/" and link.get_attribute("target") == "_blank"
    assert "noopener" in (link.get_attribute("rel") or "")
    expect(reply).to_contain_text("<a href=javascript:alert(7)>w</a>")
    assert page.locator("a[href^='javascript:' i], a[href^='data:' i]").count() == 0
    idle(page)
    send(page, 'run `echo "<img src=y onerror=alert(3)>" > page.html`')  # HTML in a tool's input
    item = inline_permission(page, "<img src=y onerror=alert(3)>")
    expect(item).to_have_count(1)
    shot(page, "html-as-text")
    item.get_by_role("button", name="Deny", exact=True).click()
    idle(page)

    expect(row(page, session_id).locator("td").first).to_have_text(f"say {payloads[0]}")
    assert page.locator("img").count() == 0
    assert page.locator("body script").count() == 0
    assert page.evaluate("window.pwned") is None
    assert watched.dialogs == [] and watched.errors == []


def test_model_and_mode_selectors_hibernate_and_close(
    dashboard: Page, http: httpx.Client, workdir: Path, watched: Any, shot: Shot
) -> None:
    page = dashboard
    session_id = rest_session(http, workdir)
    open_from_table(page, session_id)
    view = page.get_by_role("region", name=re.compile(f"^Session {session_id[:8]}"))

    view.get_by_label("Permission mode").select_option("acceptEdits")
    wait_until(lambda: status(http, session_id)["permission_mode"] == "acceptEdits", what="acceptEdits")
    view.get_by_label("Model").fill("demo-renamed")
    view.get_by_role("button", name="Set model").click()
    wait_until(lambda: status(http, session_id)["current_model"] == "demo-renamed", what="the model switch")
    send(page, "which model are you?")
    expect(conversation(page)).to_contain_text("answering as demo-renamed")
    idle(page)

    view.get_by_role("button", name="Hibernate").click()
    expect(row(page, session_id)).to_contain_text("hibernated")
    expect(session_status(page)).to_have_text("hibernated")
    assert status(http, session_id)["status"] == "hibernated"
    shot(page, "hibernated")
    send(page, "say awake again")  # wakes it with its settings
    expect(conversation(page).locator(".assistant").filter(has_text="awake again")).to_have_count(1)
    idle(page)
    assert status(http, session_id)["permission_mode"] == "acceptEdits"

    view.get_by_role("button", name="Close session").click()
    expect(row(page, session_id)).to_have_count(0)
    expect(view).to_be_hidden()
    assert http.get(f"/sessions/{session_id}/status").status_code == 404
    assert watched.errors == []


SSE_STREAM = 'id: 1\r\nevent: a\r\ndata: x\r\n\r\n: ping\n\ndata: y\rdata: z\r\rid: 7\nevent: b\ndata: {"k":1}\n\ndata: no end'
SSE_EXPECTED = [["1", "a", "x"], ["1", "message", "y\nz"], ["7", "b", '{"k":1}']]


def test_sse_parser_handles_line_endings_and_chunks_split_anywhere(page: Page, server: ServerProcess) -> None:
    page.goto(f"{server.url}/ui")
    results = page.evaluate(
        """async (stream) => {
          const { LineSplitter, MessageParser } = await import('/ui/static/sse.js');
          const seen = new Set();
          for (let a = 0; a <= stream.length; a++) {
            for (let b = a; b <= stream.length; b++) {
              const lines = new LineSplitter();
              const parser = new MessageParser();
              const got = [];
              for (const part of [stream.slice(0, a), stream.slice(a, b), stream.slice(b)]) {
                for (const line of lines.push(part)) {
                  const message = parser.line(line);
                  if (message) got.push([message.id, message.event, message.data]);
                }
              }
              seen.add(JSON.stringify(got));
            }
          }
          return [...seen];
        }""",
        SSE_STREAM,
    )
    assert [json.loads(r) for r in results] == [SSE_EXPECTED]


def test_event_stream_resumes_with_last_event_id_backs_off_and_stops(page: Page, server: ServerProcess) -> None:
    page.goto(f"{server.url}/ui")
    outcome = page.evaluate(
        """async () => {
          const { EventStream } = await import('/ui/static/sse.js');
          const realFetch = window.fetch;
          const body = (text) => new Response(new ReadableStream({
            start(controller) { controller.enqueue(new TextEncoder().encode(text)); controller.close(); },
          }), { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
          const run = async (replies) => {
            const calls = [];
            const got = [];
            const states = [];
            const errors = [];
            window.fetch = async (url, init) => {
              calls.push({ lastEventId: init.headers['Last-Event-ID'] ?? null, key: init.headers.Authorization, at: performance.now() });
              const reply = replies.shift();
              if (reply instanceof Error) throw reply;
              return reply;
            };
            try {
              const stream = new EventStream('/events', {
                headers: { Authorization: 'Bearer k' },
                onMessage: (m) => { got.push([m.id, m.event, m.data]); return m.event === 'end'; },
                onState: (s) => states.push(s),
                onError: (e) => errors.push(e.status),
              });
              stream.minDelay = 40;
              stream.maxDelay = 200;
              await stream.run();
            } finally {
              window.fetch = realFetch;
            }
            return { calls, got, states, errors };
          };
          const resumed = await run([
            body('id: 5\\ndata: one\\n\\n'),          // the server ends the stream: retry
            new TypeError('connection refused'),    // the server is down: retry later
            new TypeError('connection refused'),
            body('id: 6\\nevent: end\\ndata: two\\n\\n'),  // a terminal event: stop
          ]);
          const refused = await run([new Response('{"detail":"bad key"}', { status: 401 })]);
          return { resumed, refused };
        }"""
    )
    resumed, refused = outcome["resumed"], outcome["refused"]
    assert resumed["got"] == [["5", "message", "one"], ["6", "end", "two"]]
    assert [c["lastEventId"] for c in resumed["calls"]] == [None, "5", "5", "5"]
    assert all(c["key"] == "Bearer k" for c in resumed["calls"])
    gaps = [b["at"] - a["at"] for a, b in zip(resumed["calls"], resumed["calls"][1:], strict=False)]
    assert gaps[0] >= 35 and gaps[1] >= 75 and gaps[2] >= 155  # 40, 80, 160 ms: backing off
    assert resumed["states"][-1] == "stopped" and resumed["errors"] == []
    assert len(refused["calls"]) == 1 and refused["errors"] == [401] and refused["states"] == ["stopped"]
