"""The start-up summary: where things are, whether a key protects the server, which model credential sessions use."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_agent_server.settings import Settings
from claude_agent_server.startup import NO_CREDENTIAL_HINT, model_credentials, startup_summary


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(workspace=tmp_path, data_dir=tmp_path / "data")


@pytest.mark.parametrize(
    ("environ", "found"),
    [
        ({}, []),
        ({"ANTHROPIC_API_KEY": "sk-ant-x"}, ["ANTHROPIC_API_KEY"]),
        ({"ANTHROPIC_AUTH_TOKEN": "t", "ANTHROPIC_BASE_URL": "http://gw"}, ["ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"]),
        ({"CLAUDE_CODE_USE_BEDROCK": "1"}, ["CLAUDE_CODE_USE_BEDROCK=1"]),
        ({"CLAUDE_CODE_USE_VERTEX": "true", "CLAUDE_CODE_USE_BEDROCK": "0"}, ["CLAUDE_CODE_USE_VERTEX=1"]),
        ({"ANTHROPIC_API_KEY": "  "}, []),
    ],
)
def test_credentials_from_the_environment(settings: Settings, tmp_path: Path, environ: dict[str, str], found: list[str]) -> None:
    assert model_credentials(settings, environ, tmp_path / "home") == found


def test_credentials_from_a_login_a_key_helper_or_a_litellm_config(settings: Settings, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / ".credentials.json").write_text("{}")
    assert model_credentials(settings, {}, home) == [f"Claude Code login ({home / '.claude/.credentials.json'})"]
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text('{"apiKeyHelper": "pass show key"}')
    assert model_credentials(settings, {"CLAUDE_CONFIG_DIR": str(config)}, home) == [f"apiKeyHelper in {config / 'settings.json'}"]
    proxied = Settings(workspace=tmp_path, data_dir=tmp_path / "data", litellm_config=tmp_path / "litellm.yaml")
    assert model_credentials(proxied, {}, tmp_path / "nobody")[0].startswith("LiteLLM config")


def test_summary_lines(tmp_path: Path) -> None:
    settings = Settings(
        workspace=tmp_path, data_dir=tmp_path / "data", api_key="k-Yb7",
        database_url="postgresql+asyncpg://agent:pw-Tk4@db/registry",
    )
    text = startup_summary(settings, "http://127.0.0.1:8123", {"ANTHROPIC_API_KEY": "sk-ant-secret"}, tmp_path)
    lines = text.splitlines()
    assert lines[0].startswith("claude-agent-server ")
    fields = dict(line.strip().split(": ", 1) for line in lines[1:])
    fields = {k: v.strip() for k, v in fields.items()}
    assert fields["URL"] == "http://127.0.0.1:8123" and fields["dashboard"] == "http://127.0.0.1:8123/ui"
    assert fields["workspace"] == str(tmp_path) and fields["data dir"] == str(tmp_path / "data")
    assert fields["database"] == "postgresql+asyncpg://agent:***@db/registry"
    assert fields["API key"].startswith("set") and fields["model"] == "ANTHROPIC_API_KEY"
    assert "pw-Tk4" not in text and "k-Yb7" not in text and "sk-ant-secret" not in text


def test_summary_without_a_credential_says_what_to_do(settings: Settings, tmp_path: Path) -> None:
    text = startup_summary(settings, "http://127.0.0.1:8000", {}, tmp_path / "home")
    assert text.splitlines()[-1].split(":", 1)[1].strip() == NO_CREDENTIAL_HINT
    assert "./start.sh demo" in NO_CREDENTIAL_HINT and "ANTHROPIC_API_KEY" in NO_CREDENTIAL_HINT
    assert "API key:   none" in text and f"sqlite+aiosqlite:///{tmp_path / 'data' / 'registry.db'}" in text
