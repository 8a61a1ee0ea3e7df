"""The README's API tables match the app: every operation of the OpenAPI document (the server's
own API, ``/invocations``, the proxy and the OpenAI gateway) is a row of a README table, with its
method, and every row names an operation the app serves. OpenCode's routes follow OpenCode's own
document and are checked against it in tests/opencode."""

from __future__ import annotations

import re
from pathlib import Path

from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from claude_agent_server.web.surfaces import surface_of

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = ("## API", "## OpenAI-compatible chat gateway")
PAGES = {("GET", "/"), ("GET", "/ui")}
"""Served but not in the OpenAPI document (the dashboard's page and the redirect to it)."""
ENTRY = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\b|`(?:(GET|POST|PUT|PATCH|DELETE) )?(/[^`\s]*)`")


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def readme_operations() -> set[tuple[str, str]]:
    """``(method, path)`` of every table row of the README's API sections (``{id}`` → ``{}``)."""
    text = README.read_text(encoding="utf-8")
    found: set[tuple[str, str]] = set()
    for heading in SECTIONS:
        section = text.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
        for line in section.splitlines():
            if not line.startswith("| ") or line.startswith("|---"):
                continue
            method = None
            for bare, inner, path in ENTRY.findall(line.split(" | ")[0]):
                method = inner or bare or method
                if path and method:
                    found.add((method, _template(path)))
    return found


def app_operations(tmp_path: Path) -> set[tuple[str, str]]:
    document = create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data")).openapi()
    return {
        (method.upper(), _template(path))
        for path, operations in document["paths"].items()
        if surface_of(path) != "opencode"
        for method in operations
    } | PAGES


def test_the_readme_lists_exactly_the_apps_operations(tmp_path: Path) -> None:
    app, readme = app_operations(tmp_path), readme_operations()
    assert not app - readme, f"served but missing from the README's API tables: {sorted(app - readme)}"
    assert not readme - app, f"in the README's API tables but not served: {sorted(readme - app)}"


def test_the_readme_holds_no_merge_conflict() -> None:
    markers = [n for n, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1) if re.match(r"(<{7}|={7}|>{7})( |$)", line)]
    assert markers == [], f"merge conflict markers on README lines {markers}"
