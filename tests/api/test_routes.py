"""Routes in-process (Starlette TestClient) with the scripted fake SDK client."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from fakes import FakeClients, result, text


@pytest.fixture
def clients() -> FakeClients:
    return FakeClients()


def make_client(tmp_path: Path, clients: FakeClients, **settings: object) -> TestClient:
    """An app over the scripted clients; no warm pool unless asked (these tests count clients)."""
    settings.setdefault("warm_sessions", 0)
    app = create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data", **settings), client_factory=clients)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def http(tmp_path: Path, clients: FakeClients) -> Iterator[TestClient]:
    with make_client(tmp_path, clients) as client:
        yield client


def test_health_and_ping(http: TestClient) -> None:
    health = http.get("/health").json()
    assert health["status"] == "healthy" and health["active_sessions"] == 0 and health["timestamp"].endswith("+00:00")
    ping = http.get("/ping").json()
    assert ping["status"] == "Healthy" and isinstance(ping["time_of_last_update"], int)


def test_blocking_turn_reply_shape(http: TestClient, clients: FakeClients) -> None:
    created = http.post("/sessions", json={"model": "m"})
    assert created.status_code == 201
    session_id = created.json()["session_id"]
    clients.enqueue(*text("hi there"), result("hi there"))
    reply = http.post(f"/sessions/{session_id}/messages", json={"message": "hello"}).json()
    assert reply == {
        "session_id": session_id,
        "messages": [{"type": "text", "content": "hi there"}],
        "result": "hi there",
        "cost_usd": 0.0012,
        "turn_cost_usd": 0.0012,  # the CLI's running total less what it reported before
        "session_cost_usd": 0.0012,  # the session's total after this turn
        "num_turns": 1,
        "duration_ms": 12,
        "usage": {"input_tokens": 3, "output_tokens": 4},
        "is_error": False,
        "stop_reason": "end_turn",
        "terminal_reason": "completed",
        "subtype": "success",
        "errors": None,
        "structured_output": None,
    }
    assert clients.last.queries == ["hello"]
    listed = http.get("/sessions").json()["sessions"]
    assert [s["session_id"] for s in listed] == [session_id] and listed[0]["model"] == "m"


def test_streamed_turn_ends_with_result(http: TestClient, clients: FakeClients) -> None:
    session_id = http.post("/sessions", json={}).json()["session_id"]
    clients.enqueue(*text("streamed"), result("streamed"))
    with http.stream("POST", f"/sessions/{session_id}/messages", json={"message": "go", "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        body = "".join(response.iter_text())
    events = [line.removeprefix("event: ") for line in body.splitlines() if line.startswith("event: ")]
    assert events[0] == "turn_started" and events[-1] == "result"
    assert "text_delta" in events and "assistant_message" in events


def test_domain_errors_map_to_status_codes(http: TestClient, clients: FakeClients) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert http.get(f"/sessions/{missing}/status").status_code == 404
    assert http.get("/sessions/nope/status").status_code == 400
    clients.fail_connect = "boom: the CLI could not start"
    failed = http.post("/sessions", json={})
    assert failed.status_code == 502 and "boom" in failed.json()["detail"]
    clients.fail_connect = None
    session_id = http.post("/sessions", json={}).json()["session_id"]
    stale = http.post(f"/sessions/{session_id}/permissions/respond", json={"request_id": "x", "allowed": True})
    assert stale.status_code == 404
    assert http.post(f"/sessions/{session_id}/model", json={}).status_code == 422
    assert http.post(f"/sessions/{session_id}/permission_mode", json={"mode": "nope"}).status_code == 422


def test_at_the_live_cap_an_idle_session_makes_room(tmp_path: Path, clients: FakeClients) -> None:
    with make_client(tmp_path, clients, max_sessions=1) as http:  # --max-sessions: the old name of the cap
        first = http.post("/sessions", json={}).json()["session_id"]
        second = http.post("/sessions", json={}).json()["session_id"]
        listed = {s["session_id"]: s["status"] for s in http.get("/sessions").json()["sessions"]}
        assert listed == {first: "hibernated", second: "connected"}
        assert http.post(f"/sessions/{first}/messages", json={"message": "wake"}).status_code == 200
        listed = {s["session_id"]: s["status"] for s in http.get("/sessions").json()["sessions"]}
        assert listed == {first: "connected", second: "hibernated"}
        assert sum(not c.disconnected for c in clients.clients) == 1


def test_hibernate_and_wake_through_the_api(http: TestClient, clients: FakeClients) -> None:
    session_id = http.post("/sessions", json={"model": "m1"}).json()["session_id"]
    http.post(f"/sessions/{session_id}/permission_mode", json={"mode": "plan"})
    assert http.post(f"/sessions/{session_id}/hibernate").json() == {"status": "hibernated", "session_id": session_id, "was_live": True}
    assert clients.last.disconnected and http.get("/health").json()["active_sessions"] == 0
    status = http.get(f"/sessions/{session_id}/status").json()
    assert status["status"] == "hibernated" and status["permission_mode"] == "plan"
    assert http.post(f"/sessions/{session_id}/interrupt").json()["was_running"] is False  # does not wake it
    assert len(clients.clients) == 1
    reply = http.post(f"/sessions/{session_id}/messages", json={"message": "again"})
    assert reply.status_code == 200 and reply.json()["result"] == "echo: again"
    woken = clients.last.options
    assert len(clients.clients) == 2 and woken.session_id == session_id  # no transcript here: same id, new CLI
    assert woken.model == "m1" and woken.permission_mode == "plan"
    kinds = [(e["type"], e.get("status")) for e in http.get(f"/sessions/{session_id}/status").json()["pending_permissions"]]
    assert kinds == []
    [entry] = http.get("/sessions").json()["sessions"]
    assert entry["title"] == "again" and entry["turns"] == 1 and entry["state"] == "live"
    assert http.get("/sessions", params={"status": "hibernated"}).json()["sessions"] == []
    assert http.get("/sessions", params={"status": "nonsense"}).status_code == 422


def test_delete_closes_for_good(http: TestClient, clients: FakeClients) -> None:
    session_id = http.post("/sessions", json={}).json()["session_id"]
    assert http.delete(f"/sessions/{session_id}").json()["status"] == "closed"
    assert http.get("/sessions").json()["sessions"] == []
    for call in (http.get(f"/sessions/{session_id}/status"), http.post(f"/sessions/{session_id}/hibernate"), http.delete(f"/sessions/{session_id}")):
        assert call.status_code == 404


def test_shutdown_hibernates_every_session_and_a_restart_lists_them(tmp_path: Path, clients: FakeClients) -> None:
    with make_client(tmp_path, clients) as http:
        ids = [http.post("/sessions", json={"model": f"m{n}"}).json()["session_id"] for n in range(3)]
        http.post(f"/sessions/{ids[0]}/messages", json={"message": "first words"})
    assert len(clients.clients) == 3 and all(c.disconnected for c in clients.clients)
    with make_client(tmp_path, clients) as http:
        listed = {s["session_id"]: s for s in http.get("/sessions").json()["sessions"]}
        assert set(listed) == set(ids) and {s["status"] for s in listed.values()} == {"hibernated"}
        assert listed[ids[0]]["title"] == "first words" and listed[ids[0]]["turns"] == 1
        assert [listed[i]["model"] for i in ids] == ["m0", "m1", "m2"]
        assert http.get("/health").json()["active_sessions"] == 0


def test_no_cors_by_default_and_configured_origins(tmp_path: Path, clients: FakeClients) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    with make_client(tmp_path, clients) as http:
        assert "access-control-allow-origin" not in http.options("/sessions", headers=preflight).headers
    with make_client(tmp_path, clients, cors_origins=["https://app.example"]) as http:
        allowed = http.options("/sessions", headers=preflight).headers
        assert allowed["access-control-allow-origin"] == "https://app.example"
        assert allowed["access-control-allow-credentials"] == "true"
    with make_client(tmp_path, clients, cors_origins=["*"]) as http:
        assert "access-control-allow-credentials" not in http.options("/sessions", headers=preflight).headers


def test_invocations_envelope_dispatches_to_the_same_handlers(http: TestClient, clients: FakeClients) -> None:
    created = http.post("/invocations", json={"path": "/sessions", "method": "POST", "payload": {}})
    assert created.status_code == 201
    session_id = created.json()["session_id"]
    clients.enqueue(*text("via invocations"), result("via invocations"))
    reply = http.post(
        "/invocations",
        json={"path": "/sessions/{session_id}/messages", "path_params": {"session_id": session_id}, "payload": {"message": "x"}},
    )
    assert reply.status_code == 200 and reply.json()["result"] == "via invocations"
    assert http.post("/invocations", json={}).status_code == 400


def test_api_key_guards_every_route_but_health(tmp_path: Path, clients: FakeClients) -> None:
    with make_client(tmp_path, clients, api_key="k" * 20) as http:
        assert http.get("/health").status_code == 200 and http.get("/ping").status_code == 200
        assert http.get("/sessions").status_code == 401
        assert http.post("/invocations", json={"path": "/sessions", "method": "GET"}).status_code == 401
        assert http.get("/sessions", headers={"x-api-key": "k" * 20}).status_code == 200
        forwarded = http.post("/invocations", json={"path": "/sessions", "method": "GET"}, headers={"x-api-key": "k" * 20})
        assert forwarded.status_code == 200


def test_openapi_documents_the_api(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for path in ("/sessions", "/sessions/{session_id}/messages", "/sessions/{session_id}/events", "/events", "/invocations", "/ping"):
        assert path in paths


def test_every_success_reply_is_typed_in_the_openapi_document(http: TestClient) -> None:
    """Every 2xx reply but 204 declares its media type and a schema (JSON models, SSE frames,
    the Prometheus text of /metrics), so generated clients and the contract test can check it."""
    untyped = [
        f"{method.upper()} {path} {status}"
        for path, operations in http.get("/openapi.json").json()["paths"].items()
        for method, operation in operations.items()
        for status, reply in operation["responses"].items()
        if status.startswith("2") and status != "204"
        and not any(media.get("schema") for name, media in reply.get("content", {}).items() if name != "text/plain")
        and list(reply.get("content", {})) != ["text/plain"]
    ]
    assert untyped == []


def test_a_cursor_from_the_future_is_400(http: TestClient) -> None:
    session_id = http.post("/sessions", json={}).json()["session_id"]
    last = http.get(f"/sessions/{session_id}/status").json()["last_event_id"]
    for url in (f"/sessions/{session_id}/events", "/events"):
        ahead = http.get(url, headers={"Last-Event-ID": str(last + 10**9)})  # 1000 s after the newest event
        assert ahead.status_code == 400 and "ahead of every id this server has sent" in ahead.json()["detail"]
        assert http.get(url, params={"after": 10**15 * 9}).status_code == 400


def test_bad_input_is_a_clear_4xx_and_the_connection_stays_usable(tmp_path: Path, clients: FakeClients) -> None:
    with make_client(tmp_path, clients, max_body_bytes=10_000) as http:
        session_id = http.post("/sessions", json={"user_id": "ignored, as the original API did"}).json()["session_id"]
        too_big = http.post(f"/sessions/{session_id}/messages", json={"message": "x" * 20_000})
        assert too_big.status_code == 413 and "larger than 10000 bytes" in too_big.json()["detail"]
        anthropic = http.post("/v1/messages", content=b"{" + b" " * 20_000 + b"}", headers={"content-type": "application/json"})
        assert anthropic.status_code != 413  # the model routes have their own, larger limit
        chat = http.post("/v1/chat/completions", content=b"{" + b" " * 20_000 + b"}", headers={"content-type": "application/json"})
        assert chat.status_code != 413  # so has OpenAI's chat route (images)
        surrogate = b'{"message": "\\ud800"}'
        for path in (f"/sessions/{session_id}/messages", f"/sessions/{session_id}/permissions/respond", "/invocations"):
            reply = http.post(path, content=surrogate, headers={"content-type": "application/json"})
            assert reply.status_code in (400, 422) and "surrogate" in reply.text, (path, reply.text)
        deep = b"[" * 100_000 + b"]" * 100_000
        with make_client(tmp_path, clients) as roomy:
            for path in ("/invocations", "/v1/messages", "/v1/messages/count_tokens"):
                reply = roomy.post(path, content=deep, headers={"content-type": "application/json"})
                assert reply.status_code == 400, (path, reply.status_code, reply.text[:200])
            assert roomy.post("/v1/messages", content=deep, headers={"content-type": "application/json"}).json()["type"] == "error"  # Anthropic's shape
            for body in ({"cwd": "a\x00b"}, {"cwd": "x" * 5000}, {"model": "m\x00"}, {"system_prompt": "s" * 2_500_001},
                         {"append_system_prompt": "a\x00b"},
                         {"allowed_tools": ["Bash\x00"]}, {"model": "m" * 300}):
                reply = roomy.post("/sessions", json=body)
                assert reply.status_code in (400, 422), (body.keys(), reply.status_code)
            assert len(clients.clients) == 1  # none of those reached a CLI
        assert http.get("/sessions/available", params={"cwd": "a\x00b"}).status_code == 400
        assert http.get("/health").status_code == 200  # the same connection, still usable


def test_model_routes_413_in_their_own_shapes(tmp_path: Path, clients: FakeClients) -> None:
    huge = b"{" + b" " * 20_000 + b"}"
    with make_client(tmp_path, clients, max_body_bytes=10_000, max_model_body_bytes=15_000) as http:
        chat = http.post("/v1/chat/completions", content=huge, headers={"content-type": "application/json"})
        assert chat.status_code == 413 and chat.json()["error"]["code"] == "request_too_large"  # OpenAI's shape
        anthropic = http.post("/v1/messages", content=huge, headers={"content-type": "application/json"})
        assert anthropic.status_code == 413 and anthropic.json()["error"]["type"] == "request_too_large"


def test_invocations_accepts_message_and_query_params(http: TestClient, clients: FakeClients) -> None:
    reply = http.post("/invocations", json={"message": "hi from the starter toolkit"})
    assert reply.status_code == 200 and reply.json()["result"] == "echo: hi from the starter toolkit"
    listed = http.post("/invocations", json={"path": "/sessions", "method": "GET", "query_params": {"limit": 1}})
    assert listed.status_code == 200 and len(listed.json()["sessions"]) == 1
    assert http.post("/invocations", json={"path": "/sessions", "method": "GET", "query_params": {"limit": 0}}).status_code == 422


def test_sessions_list_filters_by_cwd(tmp_path: Path, http: TestClient) -> None:
    (tmp_path / "one").mkdir()
    inside = http.post("/sessions", json={"cwd": "one"}).json()["session_id"]
    http.post("/sessions", json={})
    assert [s["session_id"] for s in http.get("/sessions", params={"cwd": "one"}).json()["sessions"]] == [inside]
    assert [s["session_id"] for s in http.get("/sessions", params={"cwd": str(tmp_path / "one")}).json()["sessions"]] == [inside]
    assert http.get("/sessions", params={"cwd": "/etc"}).status_code == 400


def test_metrics_need_the_key_and_move_with_a_turn(tmp_path: Path, clients: FakeClients) -> None:
    key = {"x-api-key": "k" * 20}
    with make_client(tmp_path, clients, api_key="k" * 20) as http:
        assert http.get("/metrics").status_code == 401
        session_id = http.post("/sessions", json={}, headers=key).json()["session_id"]
        assert http.post(f"/sessions/{session_id}/messages", json={"message": "hi"}, headers=key).status_code == 200
        text = http.get("/metrics", headers=key).text
        assert 'claude_agent_server_turns_total{outcome="completed"} 1.0' in text
        assert 'claude_agent_server_sessions{state="live"} 1.0' in text and "claude_agent_server_cli_processes 1.0" in text
    with make_client(tmp_path, clients, api_key="k" * 20, metrics_public=True) as http:
        assert http.get("/metrics").status_code == 200


def test_no_route_or_dependency_runs_in_the_thread_pool(tmp_path: Path, clients: FakeClients) -> None:
    """FastAPI runs a plain ``def`` endpoint or dependency in its thread pool: one thread hop
    per request each (measured: /health 4.5 ms → 2 ms on a loaded 2-core machine once
    the state lookups were ``async def``). Every endpoint and dependency here is async."""
    app = create_app(Settings(workspace=tmp_path / "ws", data_dir=tmp_path / "data", demo=True), client_factory=clients)

    def sync_calls(dependant: Any) -> Iterator[str]:
        for dependency in dependant.dependencies:
            yield from sync_calls(dependency)
            if dependency.call is not None and not inspect.iscoroutinefunction(dependency.call):
                yield dependency.call.__qualname__

    def routes(candidates: list[Any]) -> Iterator[APIRoute]:
        for route in candidates:  # FastAPI ≥ 0.165 keeps an included router's routes inside it
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):
                yield from routes(route.original_router.routes)

    found = {
        f"{route.path}: {name}"
        for route in routes(app.routes)
        for name in [*sync_calls(route.dependant), *([] if inspect.iscoroutinefunction(route.endpoint) else [route.endpoint.__qualname__])]
    }
    assert found == set()
