"""The OpenCode routes in-process (scripted fake SDK client): auth, start-up routes, errors."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from fakes import FakeClients


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    workspace = tmp_path / "ws"
    (workspace / "sub").mkdir(parents=True)
    settings = Settings(workspace=workspace, data_dir=tmp_path / "data", api_key="k3y", demo=True)
    with TestClient(create_app(settings, client_factory=FakeClients())) as client:
        yield client


def test_auth_accepts_basic_bearer_and_x_api_key(app_client: TestClient) -> None:
    denied = app_client.get("/config")
    assert denied.status_code == 401 and denied.json()["name"] == "UnauthorizedError"
    assert denied.headers["www-authenticate"].startswith("Basic")
    assert app_client.get("/config", headers={"authorization": "Basic " + base64.b64encode(b"opencode:wrong").decode()}).status_code == 401
    for headers in (
        {"authorization": "Basic " + base64.b64encode(b"opencode:k3y").decode()},
        {"authorization": "Basic " + base64.b64encode(b"anyone:k3y").decode()},
        {"authorization": "Bearer k3y"},
        {"x-api-key": "k3y"},
    ):
        assert app_client.get("/config", headers=headers).status_code == 200, headers


def test_startup_routes(app_client: TestClient) -> None:
    app_client.headers["x-api-key"] = "k3y"
    providers = app_client.get("/config/providers").json()
    assert providers["default"] == {"demo": "demo"} and "demo" in providers["providers"][0]["models"]
    assert {"all", "default", "connected"} <= set(app_client.get("/provider").json())
    assert any(a["mode"] == "primary" for a in app_client.get("/agent").json())
    project = app_client.get("/project/current").json()
    assert project["sandboxes"] == [] and app_client.get(f"/project/{project['id']}/directories").json() == []
    for path, empty in (("/command", []), ("/mcp", {}), ("/lsp", []), ("/formatter", []), ("/vcs", {}), ("/provider/auth", {}),
                        ("/experimental/resource", {}), ("/experimental/workspace", []), ("/experimental/workspace/status", {}),
                        ("/session/status", {}), ("/permission", [])):
        assert app_client.get(path).json() == empty, path
    sub = app_client.get("/path", params={"directory": "sub"}).json()
    assert sub["directory"].endswith("/ws/sub")


def test_directory_and_errors(app_client: TestClient) -> None:
    app_client.headers["x-api-key"] = "k3y"
    outside = app_client.post("/session", json={}, headers={"x-opencode-directory": "%2Fetc"})
    assert outside.status_code == 400 and outside.json()["name"] == "BadRequestError"
    created = app_client.post("/session", json={"title": "mine"}, params={"directory": "sub"})
    assert created.status_code == 200, created.text
    info = created.json()
    assert info["directory"].endswith("/ws/sub") and info["title"] == "mine"
    assert app_client.get(f"/session/{info['id']}").json()["id"] == info["id"]
    [entry] = app_client.get("/sessions").json()["sessions"]
    assert entry["origin"] == "opencode" and entry["title"] == "mine"
    renamed = app_client.patch(f"/session/{info['id']}", json={"title": "  yours \n now "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "yours now"
    assert app_client.get("/sessions").json()["sessions"][0]["title"] == "yours now"
    bad_model = app_client.post(f"/session/{info['id']}/message", json={"parts": [{"type": "text", "text": "x"}], "model": {"providerID": "nope", "modelID": "x"}})
    assert bad_model.status_code == 400 and "not served" in bad_model.json()["data"]["message"]
    reply = app_client.post(f"/session/{info['id']}/message", json={"parts": [{"type": "text", "text": "echo me", "id": "prt_client1"}], "messageID": "msg_client1"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["role"] == "assistant" and body["info"]["id"] == body["id"] and body["parentID"] == "msg_client1"
    assert body["system"] == [] and body["path"]["cwd"].endswith("/ws/sub")
    listed = app_client.get(f"/session/{info['id']}/message", params={"limit": 2}).json()
    assert [m["info"]["id"] for m in listed] == ["msg_client1", body["id"]]
    assert listed[0]["parts"][0]["id"] == "prt_client1"
    no_text = app_client.post(f"/session/{info['id']}/message", json={"parts": [{"type": "text", "text": " "}]})
    assert no_text.status_code == 400
    assert app_client.get("/session/ses_bad").status_code == 404
    assert app_client.delete(f"/session/{info['id']}").json() is True
    assert app_client.get(f"/session/{info['id']}").json()["name"] == "NotFoundError"


def test_session_ids_survive_a_restart(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path, data_dir=tmp_path / "data", demo=True)
    with TestClient(create_app(settings, client_factory=FakeClients())) as first:
        ses_id = first.post("/session", json={}).json()["id"]
    with TestClient(create_app(settings, client_factory=FakeClients())) as second:
        assert second.get(f"/session/{ses_id}").json()["id"] == ses_id
        assert [s["id"] for s in second.get("/session").json()] == [ses_id]
