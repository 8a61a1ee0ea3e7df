"""Helpers of the tenancy tests."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from fakes import FakeClients



def created(t: Any, user: str, **body: Any) -> str:
    """A new session of ``user`` (REST); its id."""
    reply = t.call(user, "POST", "/sessions", json=body)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["session_id"])


KEY = "tenancy-admin-key-0123456789"
ROLES = {"ann": "member", "bob": "member", "vic": "viewer", "ada": "admin"}


@dataclass
class Tenants:
    http: TestClient
    clients: FakeClients
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)

    def as_(self, user: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.keys[user] if user != 'root' else KEY}"}

    def basic(self, user: str) -> dict[str, str]:
        return {"authorization": "Basic " + base64.b64encode(f"{user}:{self.keys[user]}".encode()).decode()}

    def call(self, user: str, method: str, path: str, **kw: Any) -> Any:
        return self.http.request(method, path, headers={**self.as_(user), **kw.pop("headers", {})}, **kw)


def tenant_app(tmp_path: Path, clients: FakeClients, **settings: Any) -> Any:
    settings.setdefault("warm_sessions", 0)
    settings.setdefault("api_key", KEY)
    return create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data", demo=True, **settings), client_factory=clients)  # type: ignore[arg-type]


def add_users(http: TestClient, tenants: Tenants, roles: dict[str, str] = ROLES) -> None:
    root = {"authorization": f"Bearer {KEY}"}
    for name, role in roles.items():
        assert http.post("/admin/users", json={"name": name, "role": role}, headers=root).status_code == 201
        made = http.post("/admin/keys", json={"user": name, "name": "test"}, headers=root)
        assert made.status_code == 201, made.text
        tenants.keys[name], tenants.key_ids[name] = made.json()["key"], made.json()["key_id"]


