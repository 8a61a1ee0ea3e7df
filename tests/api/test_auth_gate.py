"""Authentication decided before the body is read (issue 16, item 5): the ``AuthGate`` middleware
answers 401 from the headers alone, in each surface's shape, and its table of public paths is
exactly the routes whose dependencies check no key."""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from claude_agent_server.web.auth import AuthGate, public_paths
from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from fakes import FakeClients

KEY = "gate-key-0123456789"
NOT_IN_SCHEMA = [("GET", "/"), ("GET", "/ui"), ("GET", "/ui/static/app.js"), ("GET", "/docs"), ("GET", "/redoc"),
                 ("GET", "/docs/oauth2-redirect"), ("POST", "/demo/v1/messages"), ("POST", "/demo/v1/messages/count_tokens"),
                 ("POST", "/api/event_logging/batch")]
"""Routes the OpenAPI schema does not list."""


def make_app(tmp_path: Path, clients: FakeClients | None = None, **settings: object) -> FastAPI:
    settings.setdefault("warm_sessions", 0)
    return create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data", api_key=KEY, demo=True, **settings), client_factory=clients or FakeClients())  # type: ignore[arg-type]


@pytest.mark.parametrize("metrics_public", [False, True])
def test_the_gate_lets_through_exactly_the_routes_without_a_key_check(tmp_path: Path, metrics_public: bool) -> None:
    """Without the gate, a route that answers a keyless request with 401 checks the key itself;
    the gate's public table must hold exactly the others (a new route breaks this until it is
    either given a key check or listed in ``public_paths``)."""
    app = make_app(tmp_path, metrics_public=metrics_public)
    public, prefixes = public_paths(app, Settings(workspace=tmp_path, metrics_public=metrics_public))
    app.user_middleware = [m for m in app.user_middleware if m.cls is not AuthGate]
    routes = [(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops] + NOT_IN_SCHEMA
    with TestClient(app, raise_server_exceptions=False) as http:
        for method, path in routes:
            url = re.sub(r"\{[^}]+\}", "x", path)
            reply = http.request(method, url, json={} if method in ("POST", "PATCH", "PUT") else None)
            open_without_key = url in public or url.startswith(prefixes)
            assert (reply.status_code != 401) == open_without_key, (method, path, reply.status_code, open_without_key)
    assert ("/metrics" in public) == metrics_public


async def asgi(app: FastAPI, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, bool]:
    """Call the app with a request that declares a 50 MB body and never sends it:
    ``(status, headers, body, whether the app asked for the body)``."""
    asked = False
    received = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked = True
        await received.wait()  # never set: the body never comes
        raise AssertionError

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    raw = {"content-length": str(50 * 1024 * 1024), "content-type": "application/json", "host": "127.0.0.1:8000", **headers}
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "state": {},
        "headers": [(k.encode(), v.encode()) for k, v in raw.items()], "client": ("127.0.0.1", 5), "server": ("127.0.0.1", 8000),
    }
    await asyncio.wait_for(app(scope, receive, send), 5)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, asked


WRONG = [{}, {"authorization": "Bearer wrong"}, {"x-api-key": "wrong"}, {"authorization": KEY},
         {"authorization": "Basic " + base64.b64encode(f"opencode:{KEY}x".encode()).decode()}]


@pytest.mark.parametrize("headers", WRONG)
async def test_a_request_without_the_key_is_401_before_its_body_is_read(tmp_path: Path, headers: dict[str, str]) -> None:
    app = make_app(tmp_path)
    cases = [
        ("/sessions", "server"), ("/invocations", "server"), ("/ui/sessions", "server"), ("/no/such/route", "server"),
        ("/v1/chat/completions", "openai"), ("/v1/messages", "anthropic"), ("/demo/v1/messages", "anthropic"),
        ("/session", "opencode"), ("/session/ses_x/message", "opencode"),
    ]
    for path, surface in cases:
        status, response_headers, body, asked = await asgi(app, "POST", path, headers)
        assert status == 401 and not asked, (path, status, asked)
        if surface == "opencode":
            assert body.startswith(b'{"name":"UnauthorizedError"') and response_headers["www-authenticate"].startswith("Basic")
        else:
            assert response_headers["www-authenticate"] == "Bearer", path
            expected = {"server": b'{"detail":', "openai": b'{"error":{', "anthropic": b'{"type":"error","error":{"type":"authentication_error"'}
            assert body.startswith(expected[surface]), (path, body)


async def test_public_paths_pass_the_gate(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    for path in ("/ui", "/ui/static/app.js", "/docs", "/openapi.json", "/redoc"):
        status, _, _, _ = await asgi(app, "GET", path, {"content-length": "0"})
        assert status == 200, path


def test_the_key_in_each_form_its_surface_takes(tmp_path: Path) -> None:
    clients = FakeClients()
    basic = "Basic " + base64.b64encode(f"opencode:{KEY}".encode()).decode()
    with TestClient(make_app(tmp_path, clients), raise_server_exceptions=False) as http:
        assert http.get("/sessions", headers={"authorization": f"Bearer {KEY}"}).status_code == 200
        assert http.get("/sessions", headers={"x-api-key": KEY}).status_code == 200
        assert http.get("/sessions", headers={"authorization": basic}).status_code == 401  # Basic: OpenCode's routes only
        assert http.get("/session", headers={"authorization": basic}).status_code == 200
        assert http.get("/session", headers={"x-api-key": KEY}).status_code == 200
        assert http.get("/v1/models", headers={"authorization": f"Bearer {KEY}"}).status_code == 200
        assert http.post("/sessions", json={}, headers={"x-api-key": KEY}).status_code == 201
        model_key = clients.last.options.env["ANTHROPIC_API_KEY"]
        as_tool = {"x-api-key": model_key}
        count = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}
        assert http.post("/demo/v1/messages/count_tokens", json=count, headers=as_tool).status_code == 200
        assert http.post("/v1/messages/count_tokens", json=count, headers=as_tool).status_code != 401  # past the gate
        for method, path in (("GET", "/sessions"), ("POST", "/sessions"), ("GET", "/session"), ("GET", "/v1/models"), ("GET", "/stats")):
            assert http.request(method, path, headers=as_tool).status_code == 401, path  # the model key opens the model routes only


def test_without_a_key_nothing_is_gated(tmp_path: Path) -> None:
    app = create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data", warm_sessions=0), client_factory=FakeClients())  # type: ignore[arg-type]
    with TestClient(app) as http:
        assert http.get("/sessions").status_code == 200 and http.get("/session").status_code == 200


def test_a_websocket_without_the_key_is_closed_before_it_is_accepted(tmp_path: Path) -> None:
    """No route takes a WebSocket today; one added later gets the same gate."""

    async def hello(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    app = make_app(tmp_path)
    app.add_api_websocket_route("/ws-probe", hello)
    with TestClient(app) as http:
        with http.websocket_connect("/ws-probe", headers={"authorization": f"Bearer {KEY}"}) as websocket:
            assert websocket.receive_text() == "hi"
        with pytest.raises(WebSocketDisconnect) as closed, http.websocket_connect("/ws-probe", headers={"authorization": "Bearer wrong"}):
            pass
        assert closed.value.code == 1008
