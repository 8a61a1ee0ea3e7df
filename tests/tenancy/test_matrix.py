"""The role matrix over every route of every surface, generated from the app's own routes: two
members, a viewer and an admin. Another member's session is 404 everywhere; a viewer reads and
never changes (403); admin-only paths are 403 to the others. A route no rule classifies fails
the test, so a route added later must be placed here."""

from __future__ import annotations

import re
from typing import Any

from tenancy_support import created

NOT_IN_SCHEMA = [("GET", "/"), ("GET", "/ui"), ("GET", "/ui/static/app.js"), ("GET", "/docs"), ("GET", "/redoc"),
                 ("GET", "/docs/oauth2-redirect"), ("POST", "/demo/v1/messages"), ("POST", "/demo/v1/messages/count_tokens"),
                 ("POST", "/api/event_logging/batch")]
PUBLIC = re.compile(r"^/(|ui|ui/static/.*|docs.*|redoc|openapi\.json|health|ping|global/health)$")
MODEL = re.compile(r"^/(v1/messages|upstream/|demo/v1/|api/event_logging/)")
ADMIN = re.compile(r"^/(admin/|audit$|metrics$|nodes$)")
SESSION = re.compile(r"\{session_id\}")
STREAMS = {"/events", "/event", "/global/event", "/sessions/{session_id}/events"}
"""Endless SSE routes: only their refusals are checked here (a TestClient waits for the whole body)."""
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def classify(method: str, path: str) -> str:
    if PUBLIC.match(path):
        return "public"
    if MODEL.match(path):
        return "model"
    if ADMIN.match(path):
        return "admin"
    if SESSION.search(path):
        return "session"
    if path.startswith(("/sessions", "/session", "/permission", "/invocations", "/stats", "/usage", "/me", "/ui/", "/v1/", "/event",
                        "/global/", "/config", "/provider", "/agent", "/path", "/project", "/experimental", "/command",
                        "/lsp", "/formatter", "/mcp", "/vcs")):
        return "own"
    raise AssertionError(f"unclassified route {method} {path}: add it to the tenancy matrix")


def routes(app: Any) -> list[tuple[str, str]]:
    found = [(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops]
    return found + NOT_IN_SCHEMA


def fill(path: str, session_id: str, opencode_id: str) -> str:
    sid = opencode_id if not path.startswith("/sessions") else session_id
    path = path.replace("{session_id}", sid)
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_is_classified(tenants) -> None:
    for method, path in routes(tenants.http.app):
        classify(method, path)


def test_the_role_matrix_over_every_route(tenants) -> None:
    t = tenants
    ann = created(t, "ann")
    opencode_ann = next(s["id"] for s in t.call("ann", "GET", "/session").json())
    checked = 0
    for method, path in routes(t.http.app):
        kind = classify(method, path)
        url = fill(path, ann, opencode_ann)
        body: dict[str, Any] | None = {} if method in UNSAFE else None
        if kind == "public":
            continue
        if kind == "model":  # a user's key never opens the model routes (the server's key and sessions' model keys do)
            for user in ("ann", "vic", "ada"):
                assert t.call(user, method, url, json=body).status_code == 401, (user, method, path)
            continue
        if kind == "admin":
            for user in ("ann", "vic"):
                assert t.call(user, method, url, json=body).status_code == 403, (user, method, path)
            if method == "GET":
                assert t.call("ada", method, url).status_code == 200, (method, path)
            checked += 1
            continue
        if kind == "session":
            reply = t.call("bob", method, url, json=body)
            assert reply.status_code == 404, (method, path, reply.status_code, reply.text)  # another member's: not revealed
            assert ann not in reply.text or path.startswith("/sessions")  # (REST 404s name the id the caller sent)
        if method in UNSAFE:
            reply = t.call("vic", method, url, json=body)
            assert reply.status_code == 403, (method, path, reply.status_code)
        elif path not in STREAMS:
            for user in ("vic", "ada", "ann"):
                reply = t.call(user, method, url)
                other_ids = len(re.findall(r"\{", path.replace("{session_id}", ""))) > 0  # a dummy message id may be 404
                assert reply.status_code not in (401, 403) and (reply.status_code != 404 or other_ids), (user, method, path, reply.status_code, reply.text)
        checked += 1
    assert checked > 40


def test_lists_hold_what_each_role_sees(tenants) -> None:
    t = tenants
    ann, bob = created(t, "ann"), created(t, "bob")

    def ids(user: str) -> set[str]:
        return {s["session_id"] for s in t.call(user, "GET", "/sessions").json()["sessions"]}

    assert ids("ann") == {ann} and ids("bob") == {bob}
    assert ids("vic") == ids("ada") == {ann, bob}
    owners = {s["session_id"]: s["owner"] for s in t.call("vic", "GET", "/sessions").json()["sessions"]}
    assert owners == {ann: "ann", bob: "bob"}
    assert len(t.call("ann", "GET", "/session").json()) == 1 and len(t.call("ada", "GET", "/session").json()) == 2
    assert len(t.http.get("/session", headers=t.basic("bob")).json()) == 1  # OpenCode: the key as Basic password
    # drive: the owner and an admin may; another member may not
    assert t.call("ann", "POST", f"/sessions/{ann}/messages", json={"message": "hi"}).status_code == 200
    assert t.call("bob", "POST", f"/sessions/{ann}/messages", json={"message": "hi"}).status_code == 404
    assert t.call("ada", "POST", f"/sessions/{ann}/messages", json={"message": "hi"}).status_code == 200
    assert t.call("vic", "GET", f"/sessions/{ann}/history").status_code != 404
    assert t.call("bob", "GET", f"/sessions/{ann}/history").status_code == 404
    assert t.call("bob", "DELETE", f"/sessions/{ann}").status_code == 404
    assert t.call("ann", "DELETE", f"/sessions/{ann}").status_code == 200


def test_agentcore_sessions_belong_to_their_caller(tenants) -> None:
    t = tenants
    header = {"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "ann-runtime-session-0123456789abcdef"}
    assert t.call("ann", "POST", "/invocations", json={"prompt": "hi"}, headers=header).status_code == 200
    assert t.call("bob", "POST", "/invocations", json={"prompt": "hi"}, headers=header).status_code == 404
    assert t.call("vic", "POST", "/invocations", json={"prompt": "hi"}, headers=header).status_code == 403


def test_workspace_per_user_confines_members(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from fakes import FakeClients
    from tenancy_support import Tenants, add_users, created, tenant_app

    (tmp_path / "shared").mkdir()
    with TestClient(tenant_app(tmp_path, FakeClients(), workspace_per_user=True), raise_server_exceptions=False) as http:
        t = Tenants(http, FakeClients())
        add_users(http, t)
        ann = created(t, "ann")
        assert t.call("ann", "GET", f"/sessions/{ann}/status").json()["cwd"] == str(tmp_path / "ann")
        assert t.call("ann", "POST", "/sessions", json={"cwd": str(tmp_path / "shared")}).status_code == 400
        assert t.call("ann", "POST", "/sessions", json={"cwd": "../bob"}).status_code == 400
        created(t, "ann", cwd=str(tmp_path / "ann"))
        created(t, "ada", cwd=str(tmp_path / "shared"))  # admins are not confined
