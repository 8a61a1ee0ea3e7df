"""The dashboard's parts as a screen reader finds them (role and accessible name), and REST
helpers the browser tests share."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

Shot = Callable[[Page, str], Path]


def sign_in(page: Page, url: str, key: str) -> Page:
    """Open the dashboard at ``url`` and sign in with ``key``; returns once the event stream is live."""
    page.goto(f"{url}/ui")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status", name="Event stream")).to_have_text("live")
    return page


def conversation(page: Page) -> Locator:
    return page.get_by_role("list", name="Conversation")


def pending(page: Page) -> Locator:
    return page.get_by_role("list", name="Pending permissions")


def rows(page: Page) -> Locator:
    """The sessions table's rows, also while a session's view hides the list (their text
    is what the tests read; clicking one needs the list shown)."""
    return page.locator("#sessions tbody tr")


def cell(page: Page, session_id: str, index: int) -> Locator:
    return row(page, session_id).locator("td").nth(index)


def row(page: Page, session_id: str) -> Locator:
    return rows(page).filter(has_text=session_id[:8])


def session_status(page: Page) -> Locator:
    return page.get_by_role("status", name="Session status")


def heading(page: Page, session_id: str) -> Locator:
    return page.get_by_role("heading", name=re.compile(f"^Session {session_id[:8]}"))


def send(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()


def open_from_table(page: Page, session_id: str) -> None:
    row(page, session_id).get_by_role("link", name=session_id[:8]).click()
    expect(heading(page, session_id)).to_be_visible()


def back_to_list(page: Page) -> None:
    page.get_by_role("link", name="All sessions").click()
    expect(page.get_by_role("table")).to_be_visible()


def inline_permission(page: Page, text: str) -> Locator:
    """The permission request inside the open session's card of the tool call showing ``text``."""
    return conversation(page).locator(".tool-use").filter(has_text=text).get_by_role("group", name="Permission request")


def idle(page: Page) -> None:
    """Wait until the open session's turn is over."""
    expect(session_status(page)).to_have_text("connected")


def rest_session(http: httpx.Client, workdir: Path) -> str:
    reply = http.post("/sessions", json={"cwd": str(workdir)})
    assert reply.status_code == 201, reply.text
    return str(reply.json()["session_id"])
