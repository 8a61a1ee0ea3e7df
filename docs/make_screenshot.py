"""Regenerate ``docs/dashboard.png``: the dashboard during a demo session with a pending permission.

Starts a real demo server (real Claude Code CLI, offline demo model) with an API key in a
temporary directory, runs a few turns from REST, leaves one Bash call waiting for
permission, and photographs the signed-in page in Debian's Chromium::

    uv run --locked python docs/make_screenshot.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from e2e_support import send_in_background, wait_for_permissions  # noqa: E402
from servers import running_server  # noqa: E402

KEY = "demo-screenshot-key"


def main() -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp), "--demo", api_key=KEY) as server:
        project = server.workspace / "webapp"
        project.mkdir()
        with server.client() as http:
            done = http.post("/sessions", json={"cwd": str(server.workspace)}).json()["session_id"]
            http.post(f"/sessions/{done}/messages", json={"message": "remember that the release is on Friday"})
            waiting = http.post("/sessions", json={"cwd": str(project)}).json()["session_id"]
            http.post(f"/sessions/{waiting}/messages", json={"message": "which model are you?"})
            turn = send_in_background(server, waiting, "run `npm test > report.txt`")
            wait_for_permissions(http, waiting)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1600, "height": 900})
                page.goto(f"{server.url}/ui")
                page.get_by_label("API key").fill(KEY)
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("list", name="Pending permissions").get_by_role("listitem")).to_have_count(1)
                page.get_by_role("table").get_by_role("link", name=waiting[:8]).click()
                expect(page.get_by_role("list", name="Conversation")).to_contain_text("npm test")
                expect(page.get_by_label("Server stats")).to_contain_text("Pending permissions1")
                page.screenshot(path=str(ROOT / "docs" / "dashboard.png"))
                browser.close()
            request = wait_for_permissions(http, waiting)[0]
            http.post(f"/sessions/{waiting}/permissions/respond", json={"request_id": request["request_id"], "allowed": False})
            turn.result(timeout=60)
    print(f"wrote {ROOT / 'docs' / 'dashboard.png'}")


if __name__ == "__main__":
    main()
