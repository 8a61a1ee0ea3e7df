"""Browser fixtures: one real demo server with an API key per module, one Chromium (Debian's,
driven by Playwright for Python) per module, a fresh signed-in page per test, and
screenshots of each step in ``tests/browser/output/`` (gitignored)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from servers import ServerProcess, running_server

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
NO_CHROMIUM = "no Chromium installed (Debian: apt install chromium); browser tests skipped"
OUTPUT = Path(__file__).parent / "output"
API_KEY = "dashboard-test-key"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module", autouse=True)
def need_chromium() -> None:
    """Skip the module (before its server starts) on a machine without Chromium."""
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("server"), "--demo", api_key=API_KEY) as live:
        yield live


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


class Watched:
    """A page and what it did that it must not: dialogs opened, uncaught errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A page in a fresh context (empty sessionStorage) whose dialogs and errors are recorded."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    yield Watched(context.new_page())
    context.close()


@pytest.fixture
def page(watched: Watched) -> Page:
    return watched.page


@pytest.fixture
def dashboard(page: Page, server: ServerProcess) -> Page:
    """The page, signed in with the server's key, its event stream live."""
    page.goto(f"{server.url}/ui")
    page.get_by_label("API key").fill(API_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("table")).to_be_visible()
    expect(page.get_by_role("status", name="Event stream")).to_have_text("live")
    return page


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Iterator[Callable[[Page, str], Path]]:
    """``shot(page, step)``: a full-page screenshot ``output/<test>-<n>-<step>.png``."""
    OUTPUT.mkdir(exist_ok=True)
    name = re.sub(r"\W+", "_", request.node.name)
    taken: list[Path] = []

    def take(page: Page, step: str) -> Path:
        path = OUTPUT / f"{name}-{len(taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    yield take
    if taken:
        print(f"screenshots: {OUTPUT}/{name}-*.png")


@pytest.fixture
def workdir(server: ServerProcess, request: pytest.FixtureRequest) -> Path:
    """A fresh directory inside the server's workspace for one test."""
    path = server.workspace / re.sub(r"\W+", "_", request.node.name)
    path.mkdir()
    return path
