"""Accessibility of the dashboard, checked by axe-core (``axe-playwright-python``) in Debian's
Chromium against the real server, CLI and demo model: no serious or critical violation on
the list, a session's view with a pending permission and a Markdown reply, the phone layout,
and in dark mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from browser.conftest import API_KEY, TIMEOUT_MS
from browser.pages import conversation, inline_permission, open_from_table, pending, rest_session, row, send
from e2e_support import send_in_background, wait_for_permissions
from servers import ServerProcess

pytestmark = pytest.mark.e2e

SERIOUS = ("serious", "critical")


def violations(page: Page) -> list[str]:
    """axe's serious and critical violations on the page as it is now: ``rule: targets``."""
    results = Axe().run(page)
    assert len(results.response["passes"]) > 10, "axe did not check the page"
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_page(browser: Browser, server: ServerProcess, **options: Any) -> Iterator[Page]:
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{server.url}/ui")
    page.get_by_label("API key").fill(API_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status", name="Event stream")).to_have_text("live")
    yield page
    context.close()


def test_list_and_session_views_have_no_serious_violation(
    browser: Browser, server: ServerProcess, http: httpx.Client, workdir: Path, scheme: str
) -> None:
    page = next(pages := open_page(browser, server, viewport={"width": 1280, "height": 900}, color_scheme=scheme))
    session_id = rest_session(http, workdir)
    turn = send_in_background(server, session_id, "run `echo a11y > a11y.txt`")
    wait_for_permissions(http, session_id)
    expect(pending(page).get_by_role("listitem")).to_have_count(1)
    expect(page.locator("#turns-chart canvas")).to_have_count(1)
    assert violations(page) == [], "the list with a pending permission"

    open_from_table(page, session_id)
    item = inline_permission(page, "echo a11y > a11y.txt")
    expect(item).to_be_visible()
    assert violations(page) == [], "a session's view with a pending permission"
    item.get_by_role("button", name="Deny", exact=True).click()
    assert turn.result(timeout=120).status_code == 200
    send(page, "say # Title\n\n- [a link](https://example.com/)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```sh\nls\n```")
    expect(conversation(page).locator("figure.code")).to_have_count(1)
    assert violations(page) == [], "a Markdown reply"
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    assert violations(page) == [], "the shortcuts dialog"
    next(pages, None)


def test_axe_sees_a_violation_in_this_page(browser: Browser, server: ServerProcess) -> None:
    """The check can fail: a control without a name on the same page is reported."""
    page = next(pages := open_page(browser, server, viewport={"width": 1280, "height": 900}))
    page.evaluate("document.querySelector('#new-session').append(document.createElement('select'))")
    assert any(v.startswith("select-name") for v in violations(page))
    next(pages, None)


def test_the_phone_layout_has_no_serious_violation(browser: Browser, server: ServerProcess, http: httpx.Client, workdir: Path) -> None:
    page = next(pages := open_page(browser, server, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True))
    session_id = rest_session(http, workdir)
    turn = send_in_background(server, session_id, "run `echo phone > phone.txt`")
    wait_for_permissions(http, session_id)
    expect(pending(page).get_by_role("listitem")).to_have_count(1)
    expect(row(page, session_id)).to_contain_text("waiting for permission")
    assert violations(page) == []
    pending(page).get_by_role("button", name="Deny", exact=True).tap()
    assert turn.result(timeout=120).status_code == 200
    next(pages, None)


def test_message_actions_the_queue_and_the_audit_view_have_no_serious_violation(
    browser: Browser, server: ServerProcess, http: httpx.Client, workdir: Path, scheme: str
) -> None:
    page = next(pages := open_page(browser, server, viewport={"width": 1280, "height": 900}, color_scheme=scheme))
    session_id = rest_session(http, workdir)
    open_from_table(page, session_id)
    send(page, "remember that axe reads this")
    reply = conversation(page).locator("li.assistant").filter(has_text="axe reads this")
    expect(reply.get_by_role("button", name="Fork from here")).to_be_visible()
    expect(conversation(page).get_by_role("button", name="Undo changes from here")).to_be_disabled()  # no checkpointing here
    send(page, "count slowly")
    expect(page.get_by_role("status", name="Session status")).to_have_text("running")
    send(page, "remember that this waits")
    expect(page.get_by_role("list", name="Queue").get_by_role("listitem")).to_have_count(1)
    assert violations(page) == [], "a session's view with message actions and a queue"
    page.get_by_role("list", name="Queue").get_by_role("button").click()
    page.get_by_role("button", name="Interrupt").click()
    page.get_by_role("link", name="All sessions").filter(visible=True).click()
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("#audit-table tbody tr").first).to_be_visible()
    assert violations(page) == [], "the audit view"
    next(pages, None)
