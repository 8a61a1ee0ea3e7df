"""Cross-site requests and DNS rebinding (issue 16, item 1): non-JSON bodies are 415, a foreign
``Origin`` is 403 and a foreign ``Host`` 400 when the server has no key, each in the error shape
of the path's surface; same-origin pages, clients without ``Origin`` and the dashboard work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from claude_agent_server.web.guards import BrowserGuard, host_name, is_json_media_type, is_loopback_name
from claude_agent_server.web.surfaces import error_body, surface_of
from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from fakes import FakeClients

KEY = "k" * 24
CROSS_SITE = {"content-type": "text/plain"}  # what a page may send anywhere without a CORS preflight
ENVELOPE = b'{"path": "/sessions", "method": "POST", "payload": {}}'


def make(tmp_path: Path, clients: FakeClients, **settings: object) -> TestClient:
    settings.setdefault("warm_sessions", 0)
    app = create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data", **settings), client_factory=clients)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def clients() -> FakeClients:
    return FakeClients()


@pytest.fixture
def http(tmp_path: Path, clients: FakeClients) -> Iterator[TestClient]:
    with make(tmp_path, clients, demo=True) as client:
        yield client


def sessions(http: TestClient) -> int:
    return len(http.get("/sessions").json()["sessions"])


def test_surfaces_and_their_shapes() -> None:
    assert surface_of("/v1/messages") == surface_of("/v1/messages/count_tokens") == surface_of("/demo/v1/messages") == "anthropic"
    assert surface_of("/v1/chat/completions") == surface_of("/v1/models/x") == "openai"
    assert surface_of("/session") == surface_of("/session/ses_1/message") == surface_of("/global/event") == "opencode"
    assert surface_of("/path") == surface_of("/event") == surface_of("/permission/p/reply") == "opencode"
    assert surface_of("/sessions") == surface_of("/events") == surface_of("/invocations") == surface_of("/ui/sessions") == "server"
    assert surface_of("/") == surface_of("/demo") == surface_of("/sessionsx") == "server"
    assert error_body("anthropic", 415, "m") == {"type": "error", "error": {"type": "invalid_request_error", "message": "m"}}
    assert error_body("openai", 401, "m", "c") == {"error": {"message": "m", "type": "authentication_error", "param": None, "code": "c"}}
    assert error_body("opencode", 403, "m") == {"name": "BadRequestError", "data": {"message": "m"}}
    assert error_body("server", 400, "m") == {"detail": "m"}


def test_media_types_and_host_names() -> None:
    for json_type in ("application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"):
        assert is_json_media_type(json_type)
    for other in ("", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json", "application/jsonx"):
        assert not is_json_media_type(other)
    assert host_name("[::1]:8000") == "::1" and host_name("LocalHost.:80") == "localhost" and host_name("a.b") == "a.b"
    for loopback in ("localhost", "app.localhost", "127.0.0.1", "127.9.8.7", "::1"):
        assert is_loopback_name(loopback)
    for other in ("localhost.evil.example", "10.0.0.1", "0.0.0.0", "evil.example", "127.0.0.1.nip.io"):
        assert not is_loopback_name(other)


def test_a_cross_site_text_plain_envelope_starts_nothing(http: TestClient, clients: FakeClients) -> None:
    """The attack of the issue: a page posts a text/plain envelope to /invocations (no preflight needed)."""
    reply = http.post("/invocations", content=ENVELOPE, headers=CROSS_SITE)
    assert reply.status_code == 415 and "application/json" in reply.json()["detail"]
    reply = http.post("/invocations", content=b'{"prompt": "run rm -rf ~"}', headers={"content-type": "application/x-www-form-urlencoded"})
    assert reply.status_code == 415
    assert sessions(http) == 0 and clients.clients == []
    assert http.post("/invocations", content=ENVELOPE, headers={"content-type": "application/json; charset=utf-8"}).status_code == 201


def test_415_in_each_surfaces_shape(http: TestClient) -> None:
    body = b'{"model": "demo", "messages": []}'
    chat = http.post("/v1/chat/completions", content=body, headers=CROSS_SITE)
    assert chat.status_code == 415 and chat.json()["error"]["code"] == "unsupported_media_type"
    assert chat.json()["error"]["type"] == "invalid_request_error"
    for path in ("/v1/messages", "/v1/messages/count_tokens", "/demo/v1/messages"):
        reply = http.post(path, content=body, headers=CROSS_SITE)
        assert reply.status_code == 415 and reply.json()["type"] == "error", path
        assert reply.json()["error"]["type"] == "invalid_request_error", path
    rest = http.post("/sessions", content=b"{}", headers={"content-type": "multipart/form-data; boundary=x"})
    assert rest.status_code == 415 and set(rest.json()) == {"detail"}
    opencode = http.post("/session", content=b"{}", headers=CROSS_SITE)
    assert opencode.status_code == 415 and opencode.json()["name"] == "BadRequestError" and "JSON" in opencode.json()["data"]["message"]
    dashboard = http.post("/ui/sessions", content=b"{}", headers=CROSS_SITE)
    assert dashboard.status_code == 415
    assert sessions(http) == 0


def test_routes_without_a_body_need_no_content_type(http: TestClient) -> None:
    session_id = http.post("/sessions", json={}).json()["session_id"]
    assert http.post(f"/sessions/{session_id}/interrupt").status_code == 200
    assert http.post(f"/sessions/{session_id}/interrupt", headers={"content-type": "text/plain", "content-length": "0"}).status_code == 200
    opencode_id = http.post("/session", json={}).json()["id"]
    assert http.post(f"/session/{opencode_id}/abort").status_code == 200
    assert http.post(f"/sessions/{session_id}/hibernate").status_code == 200


def test_origin_of_another_site_is_403_without_a_key(http: TestClient) -> None:
    for origin in ("http://localhost:9999", "http://evil.example", "null", "https://testserver"):
        reply = http.post("/sessions", json={}, headers={"origin": origin})
        assert reply.status_code == 403 and "--cors-origins" in reply.json()["detail"], origin
        assert http.get("/sessions", headers={"origin": origin}).status_code == 403  # reads too
    opencode = http.post("/session", json={}, headers={"origin": "http://evil.example"})
    assert opencode.status_code == 403 and opencode.json()["name"] == "BadRequestError"
    chat = http.post("/v1/chat/completions", json={"model": "demo", "messages": []}, headers={"origin": "http://evil.example"})
    assert chat.status_code == 403 and chat.json()["error"]["type"] == "permission_error"
    anthropic = http.post("/demo/v1/messages", json={"messages": []}, headers={"origin": "http://evil.example"})
    assert anthropic.status_code == 403 and anthropic.json()["error"]["type"] == "permission_error"
    assert sessions(http) == 0


def test_same_origin_and_no_origin_pass(http: TestClient) -> None:
    assert http.post("/sessions", json={}).status_code == 201  # curl, SDKs, the CLIs: no Origin
    assert http.post("/sessions", json={}, headers={"origin": "http://testserver"}).status_code == 201
    assert http.post("/sessions", json={}, headers={"origin": "http://localhost:8123", "host": "localhost:8123"}).status_code == 201
    assert http.post("/sessions", json={}, headers={"origin": "http://127.0.0.1", "host": "127.0.0.1:80"}).status_code == 201
    # the dashboard, as a browser loads and uses it from the server itself
    same = {"origin": "http://127.0.0.1:8000", "host": "127.0.0.1:8000"}
    assert http.get("/", headers=same, follow_redirects=True).status_code == 200
    assert http.get("/ui/static/app.js", headers=same).status_code == 200
    assert http.get("/stats", headers=same).status_code == 200
    assert http.post("/ui/sessions", json={}, headers=same).status_code == 201
    assert sessions(http) == 5


def test_cors_origins_are_allowed_and_preflights_answered(tmp_path: Path, clients: FakeClients) -> None:
    with make(tmp_path, clients, cors_origins=["http://app.example:3000"]) as http:
        assert http.post("/sessions", json={}, headers={"origin": "http://app.example:3000"}).status_code == 201
        assert http.post("/sessions", json={}, headers={"origin": "http://app.example:3001"}).status_code == 403
    with make(tmp_path, clients, api_key=KEY, cors_origins=["http://app.example"]) as keyed:
        preflight = {"origin": "http://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization"}
        reply = keyed.options("/sessions", headers=preflight)
        assert reply.status_code == 200 and reply.headers["access-control-allow-origin"] == "http://app.example"


def test_foreign_host_is_400_without_a_key(http: TestClient) -> None:
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.nip.io", "10.1.2.3:8000"):
        reply = http.get("/sessions", headers={"host": host})
        assert reply.status_code == 400 and "--allowed-hosts" in reply.json()["detail"], host
    assert http.get("/health", headers={"host": "evil.example"}).status_code == 400  # nothing is served to a rebound name
    opencode = http.get("/session", headers={"host": "evil.example"})
    assert opencode.status_code == 400 and opencode.json()["name"] == "BadRequestError"
    for host in ("localhost", "localhost:1", "app.localhost:80", "127.0.0.1:8000", "127.1.2.3", "[::1]:8000", "testserver"):
        assert http.get("/sessions", headers={"host": host}).status_code == 200, host


def test_allowed_hosts(tmp_path: Path, clients: FakeClients) -> None:
    with make(tmp_path, clients, allowed_hosts=["agents.example", "*.corp.example"]) as http:
        for host in ("agents.example", "AGENTS.example:8443", "a.corp.example", "localhost"):
            assert http.get("/sessions", headers={"host": host}).status_code == 200, host
        for host in ("corp.example", "evil.example", "agents.example.evil"):
            assert http.get("/sessions", headers={"host": host}).status_code == 400, host
    with make(tmp_path, clients, allowed_hosts=["*"]) as http:
        assert http.get("/sessions", headers={"host": "anything.example"}).status_code == 200


def test_with_a_key_origin_is_not_checked_and_host_only_when_asked(tmp_path: Path, clients: FakeClients) -> None:
    auth = {"authorization": f"Bearer {KEY}"}
    with make(tmp_path, clients, api_key=KEY) as http:
        assert http.post("/sessions", json={}, headers={**auth, "origin": "https://tool.example"}).status_code == 201
        assert http.get("/sessions", headers={**auth, "host": "agents.example"}).status_code == 200
        assert http.post("/sessions", content=ENVELOPE, headers={**auth, **CROSS_SITE}).status_code == 415
    with make(tmp_path, clients, api_key=KEY, allowed_hosts=["agents.example"]) as http:
        assert http.get("/sessions", headers={**auth, "host": "agents.example"}).status_code == 200
        assert http.get("/sessions", headers={**auth, "host": "evil.example"}).status_code == 400


def test_websockets_get_the_same_checks() -> None:
    """No route takes a WebSocket today; one added later is not open to other sites."""

    async def hello(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    app = BrowserGuard(Starlette(routes=[WebSocketRoute("/ws", hello)]), check_host=True, check_origin=True, bound_host="127.0.0.1")
    with TestClient(app) as http:
        with http.websocket_connect("/ws", headers={"origin": "http://testserver"}) as websocket:
            assert websocket.receive_text() == "hi"
        for refused in ({"origin": "http://evil.example"}, {"host": "evil.example"}):
            with pytest.raises(WebSocketDisconnect) as closed, http.websocket_connect("/ws", headers=refused):
                pass
            assert closed.value.code == 1008
