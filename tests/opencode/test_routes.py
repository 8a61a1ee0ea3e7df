"""The OpenCode routes in-process (scripted fake SDK client): auth, start-up routes, errors."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claude_agent_server import __version__
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


def test_global_health_and_one_message(app_client: TestClient) -> None:
    app_client.headers["x-api-key"] = "k3y"
    assert app_client.get("/global/health").json() == {"healthy": True, "version": __version__}
    ses_id = app_client.post("/session", json={}).json()["id"]
    reply = app_client.post(f"/session/{ses_id}/message", json={"parts": [{"type": "text", "text": "echo me", "id": "prt_c1"}], "messageID": "msg_c1"})
    assert reply.status_code == 200, reply.text
    listed = app_client.get(f"/session/{ses_id}/message").json()
    for message in listed:
        assert app_client.get(f"/session/{ses_id}/message/{message['info']['id']}").json() == message
    user = app_client.get(f"/session/{ses_id}/message/msg_c1").json()
    assert user["info"]["role"] == "user" and user["parts"][0]["text"] == "echo me"
    assert "time" not in user["parts"][0]  # as OpenCode's server sends it: `opencode run` prints parts that have one
    missing = app_client.get(f"/session/{ses_id}/message/msg_nope")
    assert missing.status_code == 404 and missing.json()["name"] == "NotFoundError"
    assert ses_id in missing.json()["data"]["message"]


def test_unknown_opencode_paths_answer_in_opencodes_shape(app_client: TestClient) -> None:
    app_client.headers["x-api-key"] = "k3y"
    ses_id = app_client.post("/session", json={}).json()["id"]
    for path in (f"/session/{ses_id}/share", "/session/a/b/c/d", "/global/config", "/tui/append-prompt", "/file/content", "/find/file",
                 "/api/model", "/experimental/tool/ids", "/auth/anthropic", "/log", "/app", "/permission/x/y", "/project/a/b/c"):
        answer = app_client.get(path)
        assert answer.status_code == 404 and answer.json() == {"name": "NotFoundError", "data": {"message": answer.json()["data"]["message"]}}, path
    for method, path in (("PUT", "/session"), ("DELETE", "/config"), ("POST", "/event"), ("GET", "/permission/x/reply")):
        answer = app_client.request(method, path)
        assert answer.status_code == 405 and answer.json()["data"]["message"] and "detail" not in answer.json(), (method, path)
    # the server's own paths keep their shape
    assert app_client.get("/nope").json() == {"detail": "Not Found"}
    assert app_client.get("/sessions/x/nope").json() == {"detail": "Not Found"}
    assert app_client.put("/sessions").json() == {"detail": "Method Not Allowed"}


def test_a_deleted_session_is_named_by_its_ses_id(app_client: TestClient) -> None:
    app_client.headers["x-api-key"] = "k3y"
    ses_id = app_client.post("/session", json={}).json()["id"]
    [entry] = app_client.get("/sessions").json()["sessions"]
    assert app_client.delete(f"/session/{ses_id}").json() is True
    for method, path in (("GET", f"/session/{ses_id}"), ("GET", f"/session/{ses_id}/message"), ("DELETE", f"/session/{ses_id}"), ("POST", f"/session/{ses_id}/abort")):
        gone = app_client.request(method, path)
        assert gone.status_code == 404 and gone.json()["name"] == "NotFoundError", (method, path)
        message = gone.json()["data"]["message"]
        assert ses_id in message and entry["session_id"] not in message, message


def test_lone_surrogates_are_400(app_client: TestClient) -> None:
    app_client.headers["x-api-key"] = "k3y"
    ses_id = app_client.post("/session", json={}).json()["id"]
    for method, path, body in (
        ("POST", f"/session/{ses_id}/message", '{"parts": [{"type": "text", "text": "hi \\ud800"}]}'),
        ("POST", f"/session/{ses_id}/prompt_async", '{"parts": [{"type": "text", "text": "\\udfff"}]}'),
        ("POST", f"/session/{ses_id}/message", '{"parts": [{"type": "text", "text": "hi", "extra": "\\ud83d"}]}'),
        ("POST", "/session", '{"title": "\\ud800"}'),
        ("PATCH", f"/session/{ses_id}", '{"title": "x\\ud800"}'),
        ("POST", "/permission/per_x/reply", '{"reply": "reject", "message": "\\ud800"}'),
        ("POST", f"/session/{ses_id}/permissions/per_x", '{"response": "once", "note": "\\ud800"}'),
    ):
        refused = app_client.request(method, path, content=body, headers={"content-type": "application/json"})
        assert refused.status_code == 400 and refused.json()["name"] == "BadRequestError", (path, refused.text)
        assert "surrogate" in refused.json()["data"]["message"]
    assert app_client.get(f"/session/{ses_id}/message").json() == []  # no turn started
    paired = app_client.post(f"/session/{ses_id}/message", content='{"parts": [{"type": "text", "text": "smile \\ud83d\\ude00"}]}', headers={"content-type": "application/json"})
    assert paired.status_code == 200, paired.text


def test_revert_and_unrevert_errors_and_no_op(app_client: TestClient) -> None:
    app_client.headers["x-api-key"] = "k3y"
    ses_id = app_client.post("/session", json={}).json()["id"]
    unknown = app_client.post("/session/ses_nope/revert", json={"messageID": "msg_x"})
    assert unknown.status_code == 404 and unknown.json()["name"] == "NotFoundError"
    missing = app_client.post(f"/session/{ses_id}/revert", json={"messageID": "msg_x"})
    assert missing.status_code == 404 and "msg_x" in missing.json()["data"]["message"]
    assert app_client.post(f"/session/{ses_id}/revert", json={}).status_code == 400  # messageID is required
    same = app_client.post(f"/session/{ses_id}/unrevert")  # nothing to bring back: the session as it is
    assert same.status_code == 200 and same.json()["id"] == ses_id and "revert" not in same.json()
