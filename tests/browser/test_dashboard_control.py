"""Issues 20 and 21 in the dashboard, in Debian's Chromium against the real server, CLI and demo
model: "Fork from here" and the fork's parent, "Undo changes from here" (with and without file
checkpointing), messages queued during a turn and cancelled, the owner filter of admins and
viewers, and the admins' audit view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from browser.conftest import API_KEY, TIMEOUT_MS
from browser import pages
from browser.pages import Shot, conversation, heading, idle, open_from_table, rest_session, row, rows, send, session_status
from e2e_support import status, wait_until
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e


def sign_in(page: Page, server: ServerProcess, key: str = API_KEY) -> Page:
    return pages.sign_in(page, server.url, key)


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    """``new_page()``: a page in a fresh context (its errors in ``page.errors``), closed after the test."""
    opened = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        opened.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
        page.errors = errors  # type: ignore[attr-defined]
        return page

    yield make
    for context in opened:
        context.close()


def reply(page: Page, text: str) -> Any:
    """The agent's reply item showing ``text`` in the open session."""
    return conversation(page).locator("li.assistant").filter(has_text=text)


def prompt(page: Page, text: str) -> Any:
    return conversation(page).locator("li.user").filter(has_text=text)


def turn(page: Page, text: str) -> None:
    """Send ``text`` and wait for its turn's end (the next end-of-turn note)."""
    ends = conversation(page).locator("li.turn-end, li.error")
    done = ends.count()
    send(page, text)
    expect(ends).to_have_count(done + 1)
    idle(page)


def say(page: Page, text: str, answer: str) -> None:
    send(page, text)
    expect(reply(page, answer)).to_have_count(1)
    idle(page)


def test_fork_from_here_opens_a_fork_that_knows_only_what_came_before(
    dashboard: Page, http: httpx.Client, workdir: Path, watched: Any, shot: Shot
) -> None:
    page = dashboard
    parent = rest_session(http, workdir)
    open_from_table(page, parent)
    say(page, "remember that alpha is 1", "I'll remember: alpha is 1.")
    history_reads: list[str] = []  # from here on: the view has read the history it opened with
    page.on("request", lambda request: history_reads.append(request.url) if request.url.endswith("/history") else None)
    say(page, "remember that beta is 2", "I'll remember: beta is 2.")
    first = reply(page, "alpha is 1")
    fork = first.get_by_role("button", name="Fork from here")
    expect(fork).to_be_visible()  # a live reply gets its uuid from its event
    assert history_reads == [], history_reads  # live turns name their uuids: the history is not read again
    expect(prompt(page, "remember that alpha is 1").get_by_role("button", name="Fork from here")).to_be_visible()
    undo = prompt(page, "alpha is 1").get_by_role("button", name="Undo changes from here")
    expect(undo).to_be_disabled()  # this server runs without --file-checkpointing: the button says why
    expect(undo).to_have_attribute("title", re.compile("without file checkpointing"))
    uuid = first.get_attribute("data-uuid")
    assert uuid and re.fullmatch(r"[0-9a-f-]{36}", uuid)
    shot(page, "parent")

    fork.click()
    expect(page).not_to_have_url(re.compile(f"#session={parent}$"))
    expect(page).to_have_url(re.compile(r"#session=[0-9a-f-]{36}$"))
    child = page.url.rsplit("=", 1)[1]
    expect(heading(page, child)).to_be_visible()
    forked = page.locator("#view-forked")
    expect(forked).to_contain_text(f"Forked from session {parent[:8]}")
    expect(forked).to_contain_text(f"at message {uuid[:8]}")
    assert status(http, child)["forked_from"] == {"session_id": parent, "message_id": uuid}
    expect(reply(page, "alpha is 1")).to_have_count(1)  # the history up to the fork point
    expect(reply(page, "beta is 2")).to_have_count(0)
    say(page, "what did I ask you to remember?", "You asked me to remember")
    recalled = reply(page, "You asked me to remember").inner_text()
    assert "alpha is 1" in recalled and "beta" not in recalled
    shot(page, "fork")

    forked.get_by_role("link").click()  # back to the parent, at the message the fork branches off
    expect(page).to_have_url(re.compile(f"#session={parent}&message={uuid}$"))
    expect(heading(page, parent)).to_be_visible()
    expect(conversation(page).locator("li.target")).to_have_attribute("data-uuid", uuid)
    expect(page.locator("#view-forked")).to_be_hidden()
    expect(reply(page, "beta is 2")).to_have_count(1)  # the original is untouched
    shot(page, "parent-at-fork-point")
    for session in (child, parent):
        http.delete(f"/sessions/{session}")
    assert watched.errors == [] and watched.dialogs == []


def test_a_message_sent_during_a_turn_is_queued_and_a_cancelled_one_never_runs(
    dashboard: Page, http: httpx.Client, workdir: Path, watched: Any, shot: Shot
) -> None:
    page = dashboard
    session = rest_session(http, workdir)
    open_from_table(page, session)
    send(page, "count slowly")
    expect(session_status(page)).to_have_text("running")
    send(page, "remember that queued one")
    send(page, "remember that queued two")
    queue = page.get_by_role("list", name="Queue")
    expect(queue.get_by_role("listitem")).to_have_count(2)
    expect(queue.get_by_role("listitem").first).to_contain_text("remember that queued one")
    assert [q["message"] for q in status(http, session)["queued"]] == ["remember that queued one", "remember that queued two"]
    expect(page.get_by_label("Message")).to_have_value("")
    shot(page, "queued")
    queue.get_by_role("button", name="Cancel queued: remember that queued two").click()
    expect(queue.get_by_role("listitem")).to_have_count(1)
    assert [q["message"] for q in status(http, session)["queued"]] == ["remember that queued one"]
    page.get_by_role("button", name="Interrupt").click()  # the queued message runs next
    expect(reply(page, "I'll remember: queued one.")).to_have_count(1)
    idle(page)
    expect(page.locator("#view-queue")).to_be_hidden()
    expect(page.get_by_role("alert")).to_have_count(0)  # the cancelled message's 409 is no error here
    assert page.get_by_label("Message").input_value() == ""
    prompts = [m["message"]["content"] for m in http.get(f"/sessions/{session}/history").json()["messages"]
               if m["type"] == "user" and isinstance(m["message"]["content"], str)]
    assert prompts == ["count slowly", "remember that queued one"]
    http.delete(f"/sessions/{session}")
    assert watched.errors == [] and watched.dialogs == []


@pytest.fixture(scope="module")
def checkpointing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A demo server whose sessions checkpoint the files their agents change."""
    with running_server(tmp_path_factory.mktemp("checkpointing"), "--demo", "--file-checkpointing", api_key=API_KEY) as live:
        yield live


def test_undo_changes_from_here_restores_the_files_and_shows_a_refusal(
    checkpointing: ServerProcess, new_page: Any, shot: Shot
) -> None:
    server = checkpointing
    workdir = server.workspace / "undo"
    workdir.mkdir()
    (workdir / "a.txt").write_text("original\n")
    with server.client() as http:
        created = http.post("/sessions", json={"cwd": str(workdir), "permission_mode": "acceptEdits"})
        assert created.status_code == 201, created.text
        session = created.json()["session_id"]
        page = sign_in(new_page(), server)
        open_from_table(page, session)
        turn(page, "read `a.txt`")
        turn(page, "create a file a.txt with content changed")
        turn(page, "create a file b.txt with content new")
        wait_until(lambda: (workdir / "b.txt").exists(), what="b.txt")
        assert (workdir / "a.txt").read_text() == "changed\n"

        item = prompt(page, "create a file a.txt with content changed")
        undo = item.get_by_role("button", name="Undo changes from here")
        expect(undo).to_be_enabled()
        undo.click()
        expect(item).to_contain_text("Restore every file the agent changed since this message?")
        item.get_by_role("button", name="Keep them").click()  # asked twice: nothing happens yet
        assert (workdir / "b.txt").exists()
        undo.click()
        item.get_by_role("button", name="Undo changes", exact=True).click()
        restored = item.get_by_role("status")
        expect(restored).to_have_text(re.compile(r"^Restored 2 files: "))
        assert sorted(restored.inner_text().split(": ", 1)[1].split(", ")) == ["a.txt", "b.txt"]  # relative to its directory
        assert (workdir / "a.txt").read_text() == "original\n" and not (workdir / "b.txt").exists()
        shot(page, "undone")

        send(page, "count slowly")  # while a turn runs the server refuses: 409, shown as it says it
        expect(session_status(page)).to_have_text("running")
        first = prompt(page, "read `a.txt`")
        first.get_by_role("button", name="Undo changes from here").click()
        first.get_by_role("button", name="Undo changes", exact=True).click()
        expect(first.get_by_role("alert")).to_have_text(re.compile(r"^Could not undo \(409\): .+"))
        shot(page, "refused")
        page.get_by_role("button", name="Interrupt").click()
        idle(page)
        http.delete(f"/sessions/{session}")
        assert page.errors == []  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def team(server: ServerProcess) -> dict[str, str]:
    """Users on the module's server: two members, a viewer; ``{name: key}``."""
    keys = {}
    with server.client() as http:
        for name, role in (("ann", "member"), ("bob", "member"), ("vic", "viewer")):
            assert http.post("/admin/users", json={"name": name, "role": role}).status_code == 201
            made = http.post("/admin/keys", json={"user": name})
            assert made.status_code == 201, made.text
            keys[name] = made.json()["key"]
    return keys


def session_of(server: ServerProcess, key: str, cwd: Path) -> str:
    reply = httpx.post(f"{server.url}/sessions", json={"cwd": str(cwd)}, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["session_id"])


def test_owner_filter_for_admins_and_viewers_and_none_for_members(
    server: ServerProcess, team: dict[str, str], new_page: Any, workdir: Path, shot: Shot
) -> None:
    ann, bob = session_of(server, team["ann"], workdir), session_of(server, team["bob"], workdir)
    admin = sign_in(new_page(), server)
    asked: list[str] = []
    admin.on("request", lambda request: asked.append(request.url))
    owner = admin.get_by_label("Owner")
    expect(owner).to_be_visible()
    expect(row(admin, ann)).to_contain_text("ann")
    expect(row(admin, bob)).to_contain_text("bob")
    owner.select_option("ann")
    expect(row(admin, bob)).to_have_count(0)
    expect(row(admin, ann)).to_have_count(1)
    expect(rows(admin).filter(has_not_text="ann")).to_have_count(0)
    wait_until(lambda: any("owner=ann" in url for url in asked), what="GET /sessions?owner=ann")
    shot(admin, "admin-ann")
    owner.select_option("")
    expect(row(admin, bob)).to_have_count(1)
    expect(admin.get_by_role("link", name="Audit log")).to_be_visible()

    viewer = sign_in(new_page(), server, team["vic"])
    expect(viewer.get_by_label("Owner")).to_be_visible()
    viewer.get_by_label("Owner").select_option("bob")
    expect(row(viewer, ann)).to_have_count(0)
    expect(row(viewer, bob)).to_have_count(1)
    expect(viewer.get_by_role("link", name="Audit log")).to_be_hidden()
    expect(viewer.locator("#whoami")).to_have_text("vic (viewer)")

    member = sign_in(new_page(), server, team["ann"])
    expect(row(member, ann)).to_have_count(1)
    expect(member.get_by_label("Owner")).to_be_hidden()
    expect(row(member, bob)).to_have_count(0)
    expect(member.get_by_role("link", name="Audit log")).to_be_hidden()
    member.goto(f"{server.url}/ui#audit")  # not an admin: the list, not the audit view
    expect(member.get_by_role("heading", name="Audit log")).to_be_hidden()
    for page in (admin, viewer, member):
        assert page.errors == []  # type: ignore[attr-defined]


def test_viewers_get_no_fork_or_undo_buttons(server: ServerProcess, team: dict[str, str], new_page: Any, workdir: Path) -> None:
    session = session_of(server, team["ann"], workdir)
    said = httpx.post(f"{server.url}/sessions/{session}/messages", json={"message": "remember that viewers read"},
                      headers={"Authorization": f"Bearer {team['ann']}"}, timeout=120)
    assert said.status_code == 200, said.text
    viewer = sign_in(new_page(), server, team["vic"])
    open_from_table(viewer, session)
    expect(reply(viewer, "viewers read")).to_have_count(1)
    expect(viewer.get_by_role("button", name="Fork from here")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Undo changes from here")).to_have_count(0)
    member = sign_in(new_page(), server, team["ann"])
    open_from_table(member, session)
    expect(reply(member, "viewers read").get_by_role("button", name="Fork from here")).to_have_count(1)


def test_the_audit_view_filters_and_pages_newest_first(
    server: ServerProcess, team: dict[str, str], new_page: Any, workdir: Path, shot: Shot
) -> None:
    ann = {"Authorization": f"Bearer {team['ann']}"}
    session = session_of(server, team["ann"], workdir)
    missing = "00000000-0000-4000-8000-000000000000"
    for _ in range(55):  # refused changes are audited too: enough rows for a second page
        assert httpx.post(f"{server.url}/sessions/{missing}/interrupt", headers=ann, timeout=30).status_code == 404
    page = sign_in(new_page(), server)
    page.get_by_role("link", name="Audit log").click()
    expect(page).to_have_url(re.compile("#audit$"))
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    table = page.locator("#audit-table tbody tr")
    expect(table).to_have_count(50)
    expect(page.get_by_role("status").filter(has_text="entries shown")).to_have_text("50 entries shown, newest first")
    times = [t for t in page.locator("#audit-table td.at").evaluate_all("cells => cells.map((c) => c.title)")]
    assert times == sorted(times, reverse=True)
    page.get_by_role("button", name="Older entries").click()
    wait_until(lambda: table.count() > 50, what="the second page")

    page.get_by_label("User").fill("ann")
    page.get_by_label("Action").fill("rest.interrupt_session")
    page.get_by_role("button", name="Show").click()
    expect(table).to_have_count(50)
    more = page.get_by_role("button", name="Older entries")
    more.click()
    expect(table).to_have_count(55)  # the 55 refused interrupts, and no more
    expect(more).to_be_hidden()
    cells = table.evaluate_all("rows => rows.map((r) => [...r.cells].map((c) => c.textContent))")
    assert all(c[1] == "ann" and c[2] == "rest.interrupt_session" and c[5] == "404" for c in cells), cells[:3]
    shot(page, "filtered")

    page.get_by_label("User").fill("")
    page.get_by_label("Action").fill("")
    page.get_by_label("Session id").fill(session)
    page.get_by_role("button", name="Show").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("rest.create_session")
    expect(table.get_by_role("link", name=session[:8])).to_have_attribute("href", f"#session={session}")
    page.get_by_label("From").fill("2099-01-01T00:00")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status").filter(has_text="No entry")).to_have_text("No entry matches these filters.")
    expect(table).to_have_count(0)
    page.get_by_role("link", name="All sessions").filter(visible=True).click()
    expect(page.get_by_role("table", name="Sessions")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]
