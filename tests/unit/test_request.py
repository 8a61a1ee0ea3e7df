"""SessionRequest: validation, the spec it builds, and which requests a warm client can serve
(covering every field, so a field added later cannot be forgotten by the warm pool)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from claude_agent_server.sessions import InvalidSessionRequest, SessionRequest, SessionSpec
from claude_agent_server.sessions.request import SWITCHABLE

SID = "0b6f0a36-2f6e-4d44-8a3f-9fb5f3b4b0a1"
ROOT = Path("/workspace")

SAMPLES: dict[str, Any] = {
    "resume_session_id": SID,
    "session_id": SID,
    "cwd": "sub",
    "model": "other",
    "permission_mode": "plan",
    "system_prompt": "be brief",
    "append_system_prompt": "also this",
    "allowed_tools": ["Read"],
    "disallowed_tools": ["Bash"],
    "max_turns": 2,
    "enable_proxy": True,
    "background_model": "small",
    "tools": [],
    "setting_sources": [],
    "permission_policy": "deny",
    "scratch_cwd": True,
    "agentcore_session_id": "h" * 40,
    "origin": "gateway",
    "title": "a title",
    "sandbox": {"enabled": True, "network": {"allowedDomains": [], "allowLocalBinding": None}},
    "output_format": {"type": "object", "properties": {"a": {"type": "string"}}},
    "forked_from": {"session_id": SID, "message_id": SID},
    "agents": {"a": {"description": "d", "prompt": "p"}},
    "mcp_servers": {"m": {"command": "x"}},
    "max_budget_usd": 1.0,
    "effort": "low",
    "thinking": {"type": "disabled"},
    "add_dirs": ["sub"],
}
"""A value other than the default for every request field."""
WARM_SERVES = {"model", "permission_mode", "agentcore_session_id", "origin", "title"}
"""Request fields a warm client serves whatever their value (switched on it, or kept in the record)."""


def warm_spec() -> SessionSpec:
    return SessionSpec(SID.replace("0b", "1c"), ROOT, model="m0", permission_mode="default")


def test_every_request_field_has_a_sample() -> None:
    assert set(SAMPLES) == set(SessionRequest.model_fields)  # a new field: add a sample and decide if it is WARM_SERVES


def test_every_spec_field_can_be_asked_for_or_is_placed() -> None:
    placed = {"session_id", "cwd", "resume", "queued", "resume_at"}  # queued: what the session holds, not what it is asked to be
    assert {f.name for f in dataclasses.fields(SessionSpec)} - placed <= set(SessionRequest.model_fields)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_warm_client_serves_only_requests_of_its_spec(name: str) -> None:
    request = SessionRequest(**{name: SAMPLES[name]})
    cwd = ROOT / "sub" if name == "cwd" else ROOT
    assert request.can_use_warm(warm_spec(), cwd) is (name in WARM_SERVES)


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(SessionSpec) if f.name != "session_id"])
def test_any_spec_field_but_the_switchable_ones_makes_a_warm_client_unfit(name: str) -> None:
    other = dataclasses.replace(warm_spec(), **{name: object()})  # differs from anything a request asks for
    assert SessionRequest().can_use_warm(other, ROOT) is (name in SWITCHABLE)


def test_the_spec_takes_the_request_and_the_defaults() -> None:
    request = SessionRequest(resume_session_id=SID, allowed_tools=("Read",), tools=[], max_turns=3)
    spec = request.spec(SID, ROOT, default_model="m0", default_permission_mode="acceptEdits")
    assert (spec.session_id, spec.cwd, spec.resume, spec.model, spec.permission_mode) == (SID, ROOT, True, "m0", "acceptEdits")
    assert spec.allowed_tools == ["Read"] and spec.tools == [] and spec.max_turns == 3 and spec.disallowed_tools == []
    assert SessionRequest(model="x", permission_mode="plan").spec(SID, ROOT, default_model="m0", default_permission_mode="default").model == "x"


def test_ids_are_canonical_and_the_request_is_frozen() -> None:
    request = SessionRequest(session_id=SID.upper(), allowed_tools=None)
    assert request.session_id == SID and request.chosen_id() == SID and request.allowed_tools == ()
    with pytest.raises(Exception, match="frozen"):
        request.model = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "fields",
    [
        {"permission_mode": "yolo"},
        {"permission_policy": "ask-the-intern"},
        {"session_id": "../../etc/passwd"},
        {"resume_session_id": "not-a-uuid"},
        {"session_id": SID, "resume_session_id": SID},
        {"scratch_cwd": True, "cwd": "sub"},
        {"output_format": {"type": "json_schema", "schema": {"type": "no-such-type"}}},
        {"output_format": {"type": "json_schema", "schema": "not an object"}},
    ],
)
def test_bad_requests_are_refused_when_built(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidSessionRequest):
        SessionRequest(**fields)


def test_sandbox_settings_keep_what_was_set() -> None:
    request = SessionRequest(sandbox=SAMPLES["sandbox"])
    spec = request.spec(SID, ROOT, default_model=None, default_permission_mode="default")
    assert spec.sandbox == {"enabled": True, "network": {"allowedDomains": []}}
    assert SessionSpec.from_json(SID, spec.to_json()).sandbox == spec.sandbox  # stored, woken with it


def test_output_format_is_stored_in_the_sdk_form_and_survives_the_registry() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    spec = SessionRequest(output_format=schema).spec(SID, ROOT, default_model=None, default_permission_mode="default")
    assert spec.output_format == {"type": "json_schema", "schema": schema}
    assert SessionSpec.from_json(SID, spec.to_json()).output_format == spec.output_format
