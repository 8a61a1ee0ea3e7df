"""Settings: environment variables, flags, the loopback rule's inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_agent_server.settings import Settings
from claude_agent_server.usage import parse_settings


def test_environment_and_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENT_SERVER_PERMISSION_TIMEOUT", "12.5")
    monkeypatch.setenv("AGENT_SERVER_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-from-env")
    settings = parse_settings(["--port", "9001", "--demo"])
    assert settings.permission_timeout == 12.5 and settings.workspace == tmp_path.resolve()
    assert settings.port == 9001 and settings.demo is True
    assert settings.default_model == "claude-from-env"
    assert parse_settings(["--default-model", "flag-model"]).default_model == "flag-model"


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("10.1.2.3", False), ("example.com", False)])
def test_loopback(host: str, loopback: bool) -> None:
    assert Settings(host=host).is_loopback is loopback


def test_empty_api_key_means_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_SERVER_API_KEY", "  ")
    assert Settings().api_key_value() is None
    monkeypatch.setenv("AGENT_SERVER_API_KEY", "sekret-Qx7")  # a string no path or default contains
    assert Settings().api_key_value() == "sekret-Qx7"
    assert "sekret-Qx7" not in repr(Settings())


def test_live_cap_aliases_and_safe_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert defaults.max_live_sessions == 32 and defaults.idle_timeout == 600 and defaults.shutdown_grace == 20
    assert defaults.proxy_allow_unlisted_models is False and defaults.database_url is None
    assert parse_settings(["--max-sessions", "3"]).max_live_sessions == 3
    assert parse_settings(["--max-live-sessions", "4"]).max_live_sessions == 4
    monkeypatch.setenv("AGENT_SERVER_MAX_SESSIONS", "5")
    assert Settings().max_live_sessions == 5
    monkeypatch.setenv("AGENT_SERVER_MAX_LIVE_SESSIONS", "6")
    monkeypatch.delenv("AGENT_SERVER_MAX_SESSIONS")
    assert Settings().max_live_sessions == 6


def test_a_lease_outlasts_two_heartbeats() -> None:
    """A node fences the sessions whose leases it has not renewed for the lease minus a heartbeat."""
    assert Settings(node_heartbeat=0.5, node_lease=3).node_lease == 3
    with pytest.raises(ValueError, match="more than twice"):
        Settings(node_heartbeat=5, node_lease=10)
