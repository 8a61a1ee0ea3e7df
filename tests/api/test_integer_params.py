"""Integers past 64 bits in a query or header (issue 16, item 17): every integer parameter of
every GET route, walked from the OpenAPI schema, answers such a value with a 4xx, never a 500
(``GET /sessions?offset=2**80`` was an ``OverflowError`` at the database)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from claude_agent_server.web.surfaces import surface_of
from claude_agent_server.app import create_app
from claude_agent_server.settings import Settings
from fakes import FakeClients


def is_integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(is_integer(option) for option in schema.get("anyOf", []))


def test_every_integer_query_and_header_parameter_refuses_huge_values(tmp_path: Path) -> None:
    app = create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data", warm_sessions=0), client_factory=FakeClients())  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as http:
        ids = {"server": http.post("/sessions", json={}).json()["session_id"], "opencode": http.post("/session", json={}).json()["id"]}
        checked = []
        for path, operations in app.openapi()["paths"].items():
            get = operations.get("get")
            if get is None:
                continue
            url = re.sub(r"\{[^}]+\}", ids.get(surface_of(path), ids["server"]), path)
            for parameter in get.get("parameters", []):
                if parameter["in"] not in ("query", "header") or not is_integer(parameter["schema"]):
                    continue
                for huge in (2**63, 2**80, -(2**80)):
                    where = {"params": {parameter["name"]: huge}} if parameter["in"] == "query" else {"headers": {parameter["name"]: str(huge)}}
                    reply = http.get(url, **where)  # type: ignore[arg-type]
                    assert reply.status_code in (400, 422), (path, parameter["name"], huge, reply.status_code, reply.text[:200])
                checked.append(f"{path} {parameter['name']}")
    assert {"/sessions offset", "/sessions/available offset", "/events last-event-id", "/event last-event-id"} <= set(checked), checked


def test_a_body_integer_written_as_a_whole_float_is_an_integer(tmp_path: Path) -> None:
    """JSON Schema's ``integer`` includes ``4381.0``; the strict bodies accepted only ``4381``
    (schemathesis: a schema-valid ``thinking.budget_tokens`` refused with 422)."""
    app = create_app(Settings(workspace=tmp_path, data_dir=tmp_path / "data", warm_sessions=0), client_factory=FakeClients())  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as http:
        whole = {
            "max_turns": 3.0,
            "thinking": {"type": "enabled", "budget_tokens": 4381.0},
            "agents": {"helper": {"description": "helps", "prompt": "help", "maxTurns": 2.0}},
        }
        created = http.post("/sessions", json=whole)
        assert created.status_code == 201, created.text
        for bad in ({"max_turns": 2.5}, {"max_turns": "3"}, {"thinking": {"type": "enabled", "budget_tokens": 4381.5}}):
            assert http.post("/sessions", json=bad).status_code == 422, bad
