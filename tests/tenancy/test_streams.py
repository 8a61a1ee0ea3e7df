"""The global streams on a real socket: a member's ``/events`` and OpenCode ``/event`` carry only
their own sessions' events; a viewer's carry everyone's."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from fakes import FakeClients
from servers import free_port, serving
from tenancy_support import KEY, ROLES, tenant_app


def _key(http: httpx.Client, name: str, role: str) -> str:
    root = {"x-api-key": KEY}
    assert http.post("/admin/users", json={"name": name, "role": role}, headers=root).status_code == 201
    return str(http.post("/admin/keys", json={"user": name}, headers=root).json()["key"])


def _created_ids(http: httpx.Client, key: str, path: str, until: str) -> set[str]:
    """Session ids named by ``session_created`` frames of ``path``, read until ``until`` shows up."""
    seen: set[str] = set()
    with http.stream("GET", path, params={"after": 0}, headers={"x-api-key": key}, timeout=10) as stream:
        for line in stream.iter_lines():
            if until in line:
                seen.add(until)
                break
            if line.startswith("data:") and "session_created" in line:
                seen.add(json.loads(line[5:])["session_id"])
    return seen


def test_global_streams_are_scoped_by_member(tmp_path: Path) -> None:
    port = free_port()
    app = tenant_app(tmp_path, FakeClients(), port=port)
    with serving(app, port, "tenancy", lifespan="on", timeout=30), httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        keys = {name: _key(http, name, role) for name, role in ROLES.items()}
        ann = http.post("/sessions", json={}, headers={"x-api-key": keys["ann"]}).json()["session_id"]
        bob = http.post("/sessions", json={}, headers={"x-api-key": keys["bob"]}).json()["session_id"]
        assert _created_ids(http, keys["bob"], "/events", bob) == {bob}
        assert _created_ids(http, keys["vic"], "/events", bob) == {ann, bob}
