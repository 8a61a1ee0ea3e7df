"""Regenerate the dashboard's pictures: ``docs/dashboard.png`` (the list: a pending
permission, the sessions, the activity charts) and ``docs/dashboard-session.png`` (a
session's view: a Markdown reply and a Bash call waiting for permission in its card), and
their ``-dark`` twins in the dark colour scheme.

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
REPLY = """say Here is the **plan** for the release:

1. run the `unit tests`
2. build the image
3. tag it

| step | time |
|:-----|-----:|
| tests | 42 s |
| build | 3 min |

```sh
npm test && docker build -t webapp .
```"""


def main() -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp), "--demo", api_key=KEY) as server:
        project = server.workspace / "webapp"
        project.mkdir()
        with server.client() as http:
            done = http.post("/sessions", json={"cwd": str(server.workspace)}).json()["session_id"]
            http.post(f"/sessions/{done}/messages", json={"message": "remember that the release is on Friday"})
            waiting = http.post("/sessions", json={"cwd": str(project)}).json()["session_id"]
            http.post(f"/sessions/{waiting}/messages", json={"message": REPLY})
            turn = send_in_background(server, waiting, "run `npm test > report.txt`")
            wait_for_permissions(http, waiting)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                for scheme, suffix in (("light", ""), ("dark", "-dark")):
                    page = browser.new_page(viewport={"width": 1440, "height": 900}, color_scheme=scheme)
                    page.goto(f"{server.url}/ui")
                    page.get_by_label("API key").fill(KEY)
                    page.get_by_role("button", name="Sign in").click()
                    expect(page.get_by_role("list", name="Pending permissions").get_by_role("listitem")).to_have_count(1)
                    expect(page.locator("#cost-chart")).to_have_attribute("data-points", "1")
                    page.screenshot(path=str(ROOT / "docs" / f"dashboard{suffix}.png"), full_page=True)
                    page.get_by_role("table").get_by_role("link", name=waiting[:8]).click()
                    expect(page.get_by_role("list", name="Conversation").get_by_role("button", name="Allow", exact=True)).to_be_visible()
                    expect(page.get_by_role("list", name="Conversation").locator("figure.code")).to_have_count(1)
                    page.screenshot(path=str(ROOT / "docs" / f"dashboard-session{suffix}.png"))
                    page.close()
                browser.close()
            request = wait_for_permissions(http, waiting)[0]
            http.post(f"/sessions/{waiting}/permissions/respond", json={"request_id": request["request_id"], "allowed": False})
            turn.result(timeout=60)
    print(f"wrote {ROOT / 'docs'}/dashboard{{,-session}}{{,-dark}}.png")


if __name__ == "__main__":
    main()
