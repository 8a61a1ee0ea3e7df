"""The dashboard's routes in-process: the page and its files (CSP, no inline code, text-only
rendering in the scripts, vendored libraries recorded, shipped in the wheel), the favicon,
POST /ui/sessions, GET /ui/activity and GET /stats."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from claude_agent_server.ui.security import CONTENT_SECURITY_POLICY
from fakes import FakeClients, result, text

STATIC = Path(__file__).resolve().parents[2] / "src/claude_agent_server/ui/static"
KEY = "ui-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def clients() -> FakeClients:
    return FakeClients()


@pytest.fixture
def http(tmp_path: Path, clients: FakeClients) -> Iterator[TestClient]:
    settings = Settings(workspace=tmp_path, data_dir=tmp_path / "data", warm_sessions=0, api_key=KEY)  # type: ignore[call-arg]
    with TestClient(create_app(settings, client_factory=clients), raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        yield client


class PageParser(HTMLParser):
    """Every tag of a page with its attributes, and the text inside each script or style element."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open and data.strip():
            self.inline.append(f"<{self._open}>{data.strip()[:60]}")


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def test_root_redirects_to_the_dashboard(http: TestClient) -> None:
    reply = http.get("/", follow_redirects=False)
    assert reply.status_code == 307 and reply.headers["location"] == "/ui"


def test_page_has_a_strict_csp_and_no_inline_code(http: TestClient) -> None:
    reply = http.get("/ui")  # no key needed: the page holds no data, it asks for the key
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    csp = reply.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["require-trusted-types-for"] == "'script'" and directives["frame-ancestors"] == "'none'"
    assert not re.search(r"unsafe-|https?:|\*|data:", csp)
    assert reply.headers["x-content-type-options"] == "nosniff" and reply.headers["x-frame-options"] == "DENY"

    page = parse(reply.text)
    assert page.inline == []
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert scripts and all(a.get("type") == "module" and (a.get("src") or "").startswith("/ui/static/") for a in scripts)
    offending = [
        (tag, name) for tag, attrs in page.tags for name in attrs
        if name == "style" or name.lower().startswith("on")
    ]
    assert offending == []
    assert not [a for tag, a in page.tags if tag == "link" and not (a.get("href") or "").startswith("/ui/static/")]


def test_every_file_the_page_loads_is_served_with_the_csp(http: TestClient) -> None:
    page = parse(http.get("/ui").text)
    wanted = {a["src"] for t, a in page.tags if t == "script"} | {a["href"] for t, a in page.tags if t == "link"}
    seen: set[str] = set()
    while wanted:
        url = wanted.pop()
        seen.add(url)
        reply = http.get(url)
        assert reply.status_code == 200, url
        assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        if url.endswith(".js"):
            assert "javascript" in reply.headers["content-type"]
            for module in re.findall(r"""^(?:import|export)\s[^'"]*from\s+'(\./[\w./-]+\.js)'""", reply.text, re.M):
                target = "/ui/static/" + module.removeprefix("./")
                if target not in seen:
                    wanted.add(target)
        elif url.endswith(".svg"):
            assert reply.headers["content-type"].startswith("image/svg+xml")
        else:
            assert reply.headers["content-type"].startswith("text/css")
    assert {f"/ui/static/{p.relative_to(STATIC)}" for p in STATIC.rglob("*.js")} <= seen, "a script the page never loads"
    assert http.get("/ui/static/missing.js").status_code == 404
    assert http.get("/ui/static/../routes.py", headers={"Authorization": f"Bearer {KEY}"}).status_code == 404


def test_scripts_never_parse_text_as_html() -> None:
    sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|srcdoc|createContextualFragment")
    offenders = [f"{p.name}: {m.group()}" for p in STATIC.glob("*.js") for m in sinks.finditer(p.read_text())]
    assert offenders == []


def test_static_files_ship_in_the_wheel(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    root = STATIC.parents[3]
    subprocess.run([uv, "build", "--wheel", "--out-dir", str(tmp_path), str(root)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"claude_agent_server/ui/static/{p.relative_to(STATIC)}" for p in STATIC.rglob("*") if p.is_file()}
    assert expected and expected <= names


def test_vendored_libraries_are_recorded_with_version_and_license() -> None:
    vendor = STATIC / "vendor"
    record = (vendor / "README.md").read_text()
    for library in vendor.glob("*.js"):
        assert f"`{library.name}`" in record, library.name
        name, version = re.fullmatch(r"([a-z-]+?)-(\d+\.\d+\.\d+)\..*", library.name).groups()  # type: ignore[union-attr]
        assert (vendor / f"{name}-{version}.LICENSE").read_text().startswith(("Copyright", "The MIT License"))


def test_the_page_names_its_favicon(http: TestClient) -> None:
    page = parse(http.get("/ui").text)
    (icon,) = [a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "icon"]
    reply = http.get(icon)  # without the key, like the page's other files
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("image/svg+xml")
    assert reply.text.startswith("<svg")


def test_dashboard_routes_need_the_key_but_the_page_does_not(http: TestClient) -> None:
    assert http.get("/ui").status_code == 200 and http.get("/ui/static/app.js").status_code == 200
    assert http.get("/stats").status_code == 401
    assert http.post("/ui/sessions", json={}).status_code == 401
    assert http.get("/stats", headers={"x-api-key": "wrong"}).status_code == 401


def test_dashboard_creates_sessions_with_its_origin(http: TestClient, tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    created = http.post("/ui/sessions", json={"cwd": str(tmp_path / "project"), "model": "m", "permission_mode": "acceptEdits"}, headers=AUTH)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["origin"] == "dashboard" and body["model"] == "m" and body["permission_mode"] == "acceptEdits"
    assert body["cwd"] == str(tmp_path / "project")
    (listed,) = http.get("/sessions", headers=AUTH).json()["sessions"]
    assert listed["session_id"] == body["session_id"] and listed["origin"] == "dashboard"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"cwd": "/etc"}, 400),
        ({"cwd": "../.."}, 400),
        ({"permission_mode": "yolo"}, 422),
        ({"origin": "rest"}, 422),
        ({"model": "x" * 300}, 422),
        ({"cwd": "a\x00b"}, 422),
        ([], 422),
    ],
)
def test_dashboard_create_refuses_bad_input(http: TestClient, body: object, status: int) -> None:
    reply = http.post("/ui/sessions", json=body, headers=AUTH)
    assert reply.status_code == status, reply.text
    assert http.get("/sessions", headers=AUTH).json()["sessions"] == []


def test_stats_shape_and_cost_today(http: TestClient, clients: FakeClients) -> None:
    empty = http.get("/stats", headers=AUTH).json()
    assert empty["sessions"] == {"live": 0, "hibernated": 0, "warm": 0}
    assert empty["turns_running"] == 0 and empty["pending_permissions"] == 0 and empty["cost_today_usd"] == 0
    assert empty["cost_since"].endswith("T00:00:00+00:00") and empty["timestamp"].endswith("+00:00")
    assert isinstance(empty["cli_memory_bytes"], int) and empty["cli_memory_bytes"] >= 0  # Linux: /proc is there
    assert empty["uptime_seconds"] > 0 and empty["version"]

    session_id = http.post("/sessions", json={}, headers=AUTH).json()["session_id"]
    clients.enqueue(*text("hi"), result("hi"))
    assert http.post(f"/sessions/{session_id}/messages", json={"message": "hello"}, headers=AUTH).status_code == 200
    stats = http.get("/stats", headers=AUTH).json()
    assert stats["sessions"]["live"] == 1 and stats["cli_processes"] == 1
    assert stats["cost_today_usd"] == pytest.approx(0.0012) and stats["turns_running"] == 0


def test_activity_counts_turns_and_cost_per_day_and_hour(http: TestClient, clients: FakeClients) -> None:
    assert http.get("/ui/activity").status_code == 401
    empty = http.get("/ui/activity", headers=AUTH).json()
    assert len(empty["days"]) == 30 and len(empty["hours"]) == 48
    assert all(p["turns"] == 0 and p["cost_usd"] == 0 for p in empty["days"] + empty["hours"])
    today, this_hour = empty["days"][-1]["start"], empty["hours"][-1]["start"]
    assert today.endswith("T00:00:00+00:00") and this_hour.endswith(":00:00+00:00") and this_hour.startswith(today[:10])
    assert [p["start"] for p in empty["days"]] == sorted(p["start"] for p in empty["days"])

    session_id = http.post("/sessions", json={}, headers=AUTH).json()["session_id"]
    for _ in range(2):
        clients.enqueue(*text("hi"), result("hi"))
        assert http.post(f"/sessions/{session_id}/messages", json={"message": "hello"}, headers=AUTH).status_code == 200
    activity = http.get("/ui/activity", headers=AUTH).json()
    spent = http.get("/stats", headers=AUTH).json()["cost_today_usd"]  # the fake's cost is cumulative per process
    assert activity["days"][-1]["turns"] == 2 and activity["days"][-1]["cost_usd"] == pytest.approx(spent) and spent > 0
    assert activity["hours"][-1]["turns"] == 2 and sum(p["turns"] for p in activity["days"]) == 2
