"""API-key authentication and the loopback rule."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from servers import ServerProcess, clean_env, running_server

pytestmark = pytest.mark.e2e
KEY = "test-key-0123456789"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("keyed"), "--demo", api_key=KEY) as server:
        yield server


def test_health_ping_and_docs_need_no_key(keyed: ServerProcess) -> None:
    for path in ("/health", "/ping", "/docs", "/openapi.json"):
        assert httpx.get(keyed.url + path).status_code == 200, path


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"x-api-key": "wrong"}, {"Authorization": KEY}, {"Authorization": "Basic " + KEY}],
)
def test_protected_routes_need_the_key(keyed: ServerProcess, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/sessions"), ("POST", "/sessions"), ("POST", "/invocations"), ("GET", "/sessions/available")):
        reply = httpx.request(method, keyed.url + path, headers=headers, json={})
        assert reply.status_code == 401, (method, path)
        assert "API key" in reply.json()["detail"]


def test_bearer_and_x_api_key_both_work(keyed: ServerProcess) -> None:
    assert httpx.get(keyed.url + "/sessions", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert httpx.get(keyed.url + "/sessions", headers={"x-api-key": KEY}).status_code == 200


def test_sessions_work_with_a_key(keyed: ServerProcess) -> None:
    # The demo sessions' CLI must present the server's key to the demo model route too.
    with keyed.client() as http:
        session_id = http.post("/sessions", json={}).json()["session_id"]
        reply = http.post(f"/sessions/{session_id}/messages", json={"message": "hello"}).json()
        assert reply["is_error"] is False and "demo model" in reply["result"]
        http.delete(f"/sessions/{session_id}")


def test_non_loopback_bind_without_key_is_refused(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "claude_agent_server.cli", "--host", "0.0.0.0", "--port", "0", "--workspace", str(tmp_path)],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "refusing to bind 0.0.0.0 without an API key" in run.stderr
    assert "Traceback" not in run.stderr
