"""The client must stay SDK-free: importing every module pulls in none of the server's stack,
and the wire contract it parses with (claude_agent_protocol) depends on nothing but pydantic."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import claude_agent_client
import claude_agent_protocol

FORBIDDEN = ("claude_agent_sdk", "litellm", "fastapi", "starlette", "uvicorn", "sqlalchemy", "claude_agent_server")
PROTOCOL_DEPENDENCIES = {"pydantic", "pydantic_core", "typing_extensions", "annotated_types", "typing_inspection"}


def _modules(package: object) -> list[str]:
    name = package.__name__  # type: ignore[attr-defined]
    return [name, *sorted(f"{name}.{m.name}" for m in pkgutil.iter_modules(package.__path__))]  # type: ignore[attr-defined]


def _loaded_after_import(modules: list[str]) -> list[str]:
    """Top-level packages outside the standard library that importing ``modules`` loads."""
    script = (
        "import importlib, json, sys\n"
        "before = set(sys.modules)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "tops = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(json.dumps(sorted(t for t in tops if t not in sys.stdlib_module_names and not t.startswith('_'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_client_modules_import_without_the_server_stack() -> None:
    modules = _modules(claude_agent_client)
    assert {"claude_agent_client.api", "claude_agent_client.app", "claude_agent_client.wire", "claude_agent_client.turn"} <= set(modules)
    loaded = _loaded_after_import(modules)
    assert "claude_agent_protocol" in loaded  # the client parses with the shared contract
    assert [m for m in loaded if m in FORBIDDEN] == []


def test_the_protocol_depends_on_pydantic_only() -> None:
    loaded = set(_loaded_after_import(_modules(claude_agent_protocol)))
    assert loaded - {"claude_agent_protocol"} <= PROTOCOL_DEPENDENCIES, loaded
