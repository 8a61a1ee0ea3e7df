"""The dashboard's parts as a screen reader finds them (role and accessible name), and REST
helpers the browser tests share."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

Shot = Callable[[Page, str], Path]


def conversation(page: Page) -> Locator:
    return page.get_by_role("list", name="Conversation")


def pending(page: Page) -> Locator:
    return page.get_by_role("list", name="Pending permissions")


def rows(page: Page) -> Locator:
    return page.get_by_role("table").locator("tbody").get_by_role("row")


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


def idle(page: Page) -> None:
    """Wait until the open session's turn is over."""
    expect(session_status(page)).to_have_text("connected")


def rest_session(http: httpx.Client, workdir: Path) -> str:
    reply = http.post("/sessions", json={"cwd": str(workdir)})
    assert reply.status_code == 201, reply.text
    return str(reply.json()["session_id"])
