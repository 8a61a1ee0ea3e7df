"""``GET /me`` (who signed in, and the server's features) and ``GET /sessions?owner=`` in-process:
each role's answer, and an owner filter that admins and viewers may use and a member cannot
widen (their list stays their own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from fakes import FakeClients
from tenancy_support import KEY, Tenants, add_users, created, tenant_app


@pytest.fixture
def tenants(tmp_path: Path) -> Iterator[Tenants]:
    clients = FakeClients()
    with TestClient(tenant_app(tmp_path, clients, file_checkpointing=True), raise_server_exceptions=False) as http:
        found = Tenants(http, clients)
        add_users(http, found)
        yield found


def test_me_names_the_caller_its_role_and_the_servers_features(tenants: Tenants) -> None:
    t = tenants
    ann = t.call("ann", "GET", "/me")
    assert ann.status_code == 200, ann.text
    assert ann.json() == {"user": "ann", "role": "member", "key_id": t.key_ids["ann"], "sees_all": False, "may_change": True,
                          "features": {"file_checkpointing": True}}
    vic = t.call("vic", "GET", "/me").json()
    assert (vic["role"], vic["sees_all"], vic["may_change"]) == ("viewer", True, False)
    ada = t.call("ada", "GET", "/me").json()
    assert (ada["user"], ada["role"], ada["sees_all"], ada["may_change"]) == ("ada", "admin", True, True)
    root = t.http.get("/me", headers={"authorization": f"Bearer {KEY}"}).json()
    assert (root["user"], root["role"], root["key_id"]) == ("admin", "admin", "server")
    assert t.http.get("/me").status_code == 401
    assert t.http.get("/me", headers={"authorization": "Bearer wrong"}).status_code == 401


def test_me_without_sign_in_is_an_anonymous_admin(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path, data_dir=tmp_path / "data", warm_sessions=0)  # type: ignore[call-arg]
    with TestClient(create_app(settings, client_factory=FakeClients())) as http:  # type: ignore[arg-type]
        me = http.get("/me")
        assert me.status_code == 200, me.text
        assert me.json() == {"user": None, "role": "admin", "key_id": None, "sees_all": True, "may_change": True,
                             "features": {"file_checkpointing": False}}


def test_the_owner_filter_narrows_admins_and_viewers_lists_and_never_widens_a_members(tenants: Tenants) -> None:
    t = tenants
    ann, bob = created(t, "ann"), created(t, "bob")
    ann_too = created(t, "ann")

    def ids(user: str, query: str = "") -> set[str]:
        reply = t.call(user, "GET", f"/sessions{query}")
        assert reply.status_code == 200, reply.text
        return {s["session_id"] for s in reply.json()["sessions"]}

    for reader in ("ada", "vic"):
        assert ids(reader) == {ann, ann_too, bob}
        assert ids(reader, "?owner=ann") == {ann, ann_too}
        assert ids(reader, "?owner=bob") == {bob}
        assert ids(reader, "?owner=nobody") == set()
        assert ids(reader, "?owner=ann&limit=1") <= {ann, ann_too} and len(ids(reader, "?owner=ann&limit=1")) == 1
    assert ids("ann", "?owner=bob") == {ann, ann_too}  # a member's list is always their own
    assert ids("bob", "?owner=ann") == {bob}
    assert t.call("ada", "GET", "/sessions?owner=" + "x" * 129).status_code == 422
