"""Issue 23 in a real browser (Debian's Chromium) against the real server, CLI and demo model:
the list and a session as views of their own, Markdown replies, the whole running turn when
a page opens mid-reply, a phone's layout, background-tab notifications, the activity charts,
dark mode, the favicon and the keyboard shortcuts."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from browser.conftest import API_KEY, TIMEOUT_MS
from browser import pages
from browser.pages import (
    Shot, conversation, idle, inline_permission, open_from_table, pending, rest_session, row, send,
)
from e2e_support import send_in_background, wait_for_permissions, wait_until
from servers import ServerProcess

pytestmark = pytest.mark.e2e

MARKDOWN = """say ## Plan

1. **read** the `config`
2. *then* write it

| name | size |
|:-----|-----:|
| a.txt | 12 |

```python
print("hi")
```
<b>raw</b> stays text."""


def sign_in(page: Page, server: ServerProcess, key: str = API_KEY) -> Page:
    return pages.sign_in(page, server.url, key)


@pytest.fixture
def context_for(browser: Browser) -> Iterator[Any]:
    """``context_for(**options)``: a new browser context (closed after the test)."""
    opened: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def contrast(page: Page, selector: str) -> float:
    """WCAG contrast ratio of an element's text colour against the page's background."""
    return float(page.evaluate(
        """(selector) => {
          const rgb = (css) => css.match(/[\\d.]+/g).slice(0, 3).map(Number);
          const lum = ([r, g, b]) => {
            const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
          };
          const node = document.querySelector(selector);
          const style = getComputedStyle(node);
          let back = style.backgroundColor;
          for (let n = node; n && /rgba\\(0, 0, 0, 0\\)|transparent/.test(back); n = n.parentElement) back = getComputedStyle(n).backgroundColor;
          if (/rgba\\(0, 0, 0, 0\\)|transparent/.test(back)) back = getComputedStyle(document.documentElement).backgroundColor;
          const [a, b] = [lum(rgb(style.color)), lum(rgb(back))].sort((x, y) => y - x);
          return (a + 0.05) / (b + 0.05);
        }""",
        selector,
    ))


def test_a_reply_in_markdown_becomes_headings_lists_tables_and_code(
    context_for: Any, server: ServerProcess, http: httpx.Client, workdir: Path, shot: Shot
) -> None:
    context = context_for(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = sign_in(context.new_page(), server)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    session_id = rest_session(http, workdir)
    open_from_table(page, session_id)
    send(page, MARKDOWN)
    reply = conversation(page).locator(".assistant").filter(has_text="Plan")
    expect(reply.get_by_role("heading", name="Plan")).to_be_visible()
    items = reply.get_by_role("list").get_by_role("listitem")
    expect(items).to_have_text(["read the config", "then write it"])
    expect(items.first.locator("strong")).to_have_text("read")
    expect(items.first.locator("code")).to_have_text("config")
    expect(items.nth(1).locator("em")).to_have_text("then")
    table = reply.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(["name", "size"])
    expect(table.get_by_role("cell")).to_have_text(["a.txt", "12"])
    code = reply.locator("figure.code")
    expect(code.locator(".lang")).to_have_text("python")
    expect(code.locator("pre code")).to_have_text('print("hi")\n')
    expect(reply).to_contain_text("<b>raw</b> stays text.")
    assert reply.locator("b").count() == 0
    code.get_by_role("button", name="Copy code").click()
    expect(code.get_by_role("button", name="Copy code")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == 'print("hi")\n'
    shot(page, "markdown")
    idle(page)
    assert errors == []


def test_a_page_opened_mid_reply_shows_the_turn_from_its_start(
    context_for: Any, server: ServerProcess, http: httpx.Client, workdir: Path, shot: Shot
) -> None:
    session_id = rest_session(http, workdir)
    http.post(f"/sessions/{session_id}/messages", json={"message": "say an earlier turn"}, timeout=120)
    turn = send_in_background(server, session_id, "count slowly")
    wait_until(lambda: http.get(f"/sessions/{session_id}/status").json()["status"] == "running", what="the turn")
    time.sleep(2)  # two seconds into the reply: the first numbers streamed before the page opened
    status = http.get(f"/sessions/{session_id}/status").json()
    assert status["turn_event_id"] is not None and status["turn_event_id"] <= status["last_event_id"]

    page = sign_in(context_for(viewport={"width": 1280, "height": 900}).new_page(), server)
    page.goto(f"{server.url}/ui#session={session_id}")
    streaming = conversation(page).locator(".streaming")
    expect(streaming).to_contain_text("Counting slowly: 1 2 3")  # from the turn's start
    expect(conversation(page).locator(".user").filter(has_text="count slowly")).to_have_count(1)
    expect(conversation(page).locator(".assistant").filter(has_text="an earlier turn")).to_have_count(1)  # the history
    shot(page, "opened-mid-reply")
    assert turn.result(timeout=120).status_code == 200
    expect(conversation(page).locator(".assistant").filter(has_text="38 39 40. Done.")).to_have_count(1)
    expect(conversation(page).locator(".user").filter(has_text="count slowly")).to_have_count(1)
    assert http.get(f"/sessions/{session_id}/status").json()["turn_event_id"] is None


def test_the_list_uses_the_width_and_back_keeps_filter_and_scroll(
    context_for: Any, server: ServerProcess, http: httpx.Client, workdir: Path, shot: Shot
) -> None:
    deep = workdir / "projects" / "client-portal" / "backend"
    deep.mkdir(parents=True)
    ids = [rest_session(http, deep) for _ in range(3)]
    http.post(f"/sessions/{ids[0]}/messages", json={"message": "say a title long enough to need more room than eleven rem"}, timeout=120)
    context = context_for(viewport={"width": 1280, "height": 600})
    page = sign_in(context.new_page(), server)
    requests: list[tuple[str, int]] = []
    page.on("response", lambda response: requests.append((response.url, response.status)))
    page.reload()
    expect(page.get_by_role("status", name="Event stream")).to_have_text("live")
    table = page.get_by_role("table")
    assert table.bounding_box()["width"] > 1150  # type: ignore[index]  # no empty half screen
    cwd = row(page, ids[0]).locator("td.cwd")
    expect(cwd).to_have_text("…/client-portal/backend")
    assert cwd.get_attribute("title") == str(deep)
    expect(row(page, ids[0]).locator("td.ago")).to_have_text(re.compile(r"\d+ (s|min) ago"))
    clipped = page.evaluate("[...document.querySelectorAll('#sessions td, #sessions th')].filter((c) => c.scrollWidth > c.clientWidth + 1).length")
    assert clipped == 0
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, "list")

    page.get_by_label("Status", exact=True).select_option("connected")
    page.mouse.wheel(0, 300)
    wait_until(lambda: page.evaluate("window.scrollY") > 0, what="a scroll")
    scrolled = page.evaluate("window.scrollY")
    open_from_table(page, ids[1])
    expect(page).to_have_url(re.compile(f"#session={ids[1]}$"))
    expect(table).to_be_hidden()  # the session is a view of its own
    page.go_back()  # the browser's back button
    expect(table).to_be_visible()
    expect(page.get_by_label("Status", exact=True)).to_have_value("connected")
    assert abs(page.evaluate("window.scrollY") - scrolled) < 2
    assert not [url for url, code in requests if code == 404]  # the favicon is there
    assert page.locator("link[rel=icon]").count() == 1
    expect(page.get_by_role("contentinfo")).to_contain_text(re.compile(r"\d+\.\d+"))  # the version in the footer
    expect(page.get_by_label("Server stats")).not_to_contain_text("Version")


def test_a_phone_answers_a_permission(context_for: Any, server: ServerProcess, http: httpx.Client, workdir: Path, shot: Shot) -> None:
    context = context_for(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = sign_in(context.new_page(), server)
    session_id = rest_session(http, workdir)
    turn = send_in_background(server, session_id, "run `echo phone > phone.txt`")
    item = pending(page).get_by_role("listitem").filter(has_text="phone.txt")
    expect(item).to_be_visible()
    allow = item.get_by_role("button", name="Allow", exact=True)
    box = allow.bounding_box()
    assert box is not None and box["height"] >= 44 and box["y"] + box["height"] <= 844  # on the first screen, thumb-sized
    assert page.locator(".pending-card").bounding_box()["y"] < page.get_by_role("table").bounding_box()["y"]  # type: ignore[index]
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, "phone-pending")
    allow.tap()
    expect(item).to_have_count(0)
    assert turn.result(timeout=120).status_code == 200
    wait_until(lambda: (workdir / "phone.txt").exists(), what="phone.txt")
    row(page, session_id).locator("td.title").tap()  # a tap on the row opens it
    expect(conversation(page)).to_contain_text("phone.txt")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, "phone-session")


HIDDEN_TAB = """
Object.defineProperty(document, 'visibilityState', { get: () => window.__visibility || 'visible' });
Object.defineProperty(document, 'hidden', { get: () => (window.__visibility || 'visible') === 'hidden' });
window.__notifications = [];
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options); window.__notifications.push({ title, body: options && options.body }); }
};
"""


def test_a_background_tab_is_notified_and_counts_in_its_title(
    context_for: Any, server: ServerProcess, http: httpx.Client, workdir: Path
) -> None:
    context = context_for(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.add_init_script(HIDDEN_TAB)
    sign_in(page, server)
    notify = page.get_by_role("button", name="Notify me of permission requests")
    expect(notify).to_be_visible()  # asked for once, by a button
    context.grant_permissions(["notifications"], origin=server.url)
    notify.click()
    expect(notify).to_be_hidden()

    session_id = rest_session(http, workdir)
    expect(row(page, session_id)).to_have_count(1)
    page.evaluate("window.__visibility = 'hidden'")  # the person looks at another tab
    turn = send_in_background(server, session_id, "run `echo bg > bg.txt`")
    wait_for_permissions(http, session_id)
    wait_until(lambda: page.evaluate("window.__notifications.length") == 1, what="a notification")
    (raised,) = page.evaluate("window.__notifications")
    assert raised["title"] == "Bash waits for your answer" and "echo bg" in raised["body"]
    expect(page).to_have_title(re.compile(r"^\(1\) waiting"))
    page.evaluate("window.__visibility = 'visible'")
    pending(page).get_by_role("listitem").get_by_role("button", name="Deny", exact=True).click()
    assert turn.result(timeout=120).status_code == 200
    expect(page).to_have_title("claude-agent-server dashboard")
    assert page.evaluate("window.__notifications.length") == 1


def test_activity_charts_have_points_after_turns(
    context_for: Any, server: ServerProcess, http: httpx.Client, workdir: Path, shot: Shot
) -> None:
    session_id = rest_session(http, workdir)
    for n in range(2):
        assert http.post(f"/sessions/{session_id}/messages", json={"message": f"say turn {n}"}, timeout=120).status_code == 200
    page = sign_in(context_for(viewport={"width": 1280, "height": 900}).new_page(), server)
    turns = page.locator("#turns-chart")
    expect(turns).to_have_attribute("data-points", re.compile(r"[1-9]"))
    expect(turns.get_by_role("status")).to_contain_text(re.compile(r"\d+ turns? in 48 hours"))
    expect(page.locator("#cost-chart")).to_have_attribute("data-points", re.compile(r"\d"))
    assert turns.locator("canvas").count() == 1
    expected = sum(p["turns"] for p in http.get("/ui/activity").json()["hours"])
    expect(turns.get_by_role("status")).to_contain_text(f"{expected} turn")
    assert expected >= 2
    http.post(f"/sessions/{session_id}/messages", json={"message": "say one more"}, timeout=120)
    expect(turns.get_by_role("status")).to_contain_text(f"{expected + 1} turns")  # redrawn after a result
    page.locator("#activity-title").scroll_into_view_if_needed()
    shot(page, "activity")


def test_dark_mode_links_buttons_and_focus_are_readable(
    context_for: Any, server: ServerProcess, http: httpx.Client, workdir: Path, shot: Shot
) -> None:
    page = sign_in(context_for(viewport={"width": 1280, "height": 900}, color_scheme="dark").new_page(), server)
    session_id = rest_session(http, workdir)
    expect(row(page, session_id)).to_have_count(1)
    assert contrast(page, f"#sessions a[href='#session={session_id}']") >= 4.5
    assert contrast(page, "#new-session button[type=submit]") >= 4.5
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    shot(page, "dark-list")
    open_from_table(page, session_id)
    assert contrast(page, ".session .back") >= 4.5
    assert contrast(page, "#send-form button") >= 4.5


def test_keyboard_shortcuts(context_for: Any, server: ServerProcess, http: httpx.Client, workdir: Path) -> None:
    page = sign_in(context_for(viewport={"width": 1280, "height": 900}).new_page(), server)
    first, second = rest_session(http, workdir), rest_session(http, workdir)
    expect(row(page, second)).to_have_count(1)
    page.locator("body").press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("allow the oldest permission request shown")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    page.locator("body").press("j")
    expect(page.locator("#sessions tbody tr.selected")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#session="))
    opened = page.url.rsplit("=", 1)[1]
    assert opened in (first, second)
    turn = send_in_background(server, opened, "run `echo keys > keys.txt`")
    item = inline_permission(page, "echo keys > keys.txt")
    expect(item).to_be_visible()
    page.locator("body").press("a")  # allow
    expect(item).to_contain_text("Allowed")
    assert turn.result(timeout=120).status_code == 200
    wait_until(lambda: (workdir / "keys.txt").exists(), what="keys.txt")
    page.locator("body").press("Escape")
    expect(page.get_by_role("table")).to_be_visible()
