"""The server's command line: a clean --help with real defaults, flags over variables, the key file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from claude_agent_server.settings import Settings
from claude_agent_server.usage import SettingsError, build_parser, parse_settings
from servers import clean_env


def test_help_is_clean_and_names_start_sh(hermetic: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per option's help, so long defaults are not wrapped
    text = build_parser().format_help()
    for internal in ("SecretStr", "null", "default factory", "{str", "--agent-server-", "--anthropic-model", "list[str]"):
        assert internal not in text, internal
    for command in ("./start.sh demo", "./start.sh client", "./start.sh test"):
        assert command in text
    assert "--port PORT" in text and "Default: 8000." in text
    assert f"Default: {hermetic / '.local/share/claude-agent-server'}." in text  # the data dir it would really use
    assert "Default: the current directory." in text and "Default: 300." in text
    assert text.count("--max-sessions") == 2  # the flag line (with its alias, one placeholder) and the description
    assert "--max-live-sessions, --max-sessions N" in text
    assert "One of: default, acceptEdits, plan, bypassPermissions, dontAsk, auto." in text
    assert "--demo, --no-demo" in text and "AGENT_SERVER_" in text
    for name in Settings.model_fields:  # every setting has a flag and a description
        flag = "--" + name.replace("_", "-")
        assert flag in text, flag
        assert Settings.model_fields[name].description, name


def test_help_from_the_console_script() -> None:
    run = subprocess.run([sys.executable, "-m", "claude_agent_server", "--help"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "./start.sh demo" in run.stdout and "Traceback" not in run.stderr


def test_flags_win_over_variables_and_lists_take_json_or_commas(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENT_SERVER_PORT", "9100")
    monkeypatch.setenv("AGENT_SERVER_DEMO", "true")
    assert parse_settings([]).port == 9100 and parse_settings([]).demo is True
    settings = parse_settings(["--port", "9200", "--no-demo", "--cors-origins", "http://a, http://b"])
    assert (settings.port, settings.demo, settings.cors_origins) == (9200, False, ["http://a", "http://b"])
    assert parse_settings(["--gateway-allowed-tools", '["Read","Grep"]']).gateway_allowed_tools == ["Read", "Grep"]
    assert parse_settings([], {"api_key": "from-the-pipe"}).api_key_value() == "from-the-pipe"


def test_bad_values_name_the_flag_and_hide_secrets() -> None:
    with pytest.raises(SettingsError) as bad:
        parse_settings(["--port", "70000", "--database-url", "x", "--api-key", ""])
    assert "--port / AGENT_SERVER_PORT" in str(bad.value) and "70000" in str(bad.value)
    with pytest.raises(SettingsError) as bad:
        parse_settings(["--permission-timeout", "soon"])
    assert "--permission-timeout / AGENT_SERVER_PERMISSION_TIMEOUT" in str(bad.value)


def test_abbreviations_and_unknown_flags_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--api-k", "secret"], ["--bogus"]):
        with pytest.raises(SystemExit) as exited:
            parse_settings(argv)
        assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_api_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "key"
    key.write_text("  file-key-Zq8\n")
    assert parse_settings(["--api-key-file", str(key)]).api_key_value() == "file-key-Zq8"
    monkeypatch.setenv("AGENT_SERVER_API_KEY_FILE", str(key))
    assert parse_settings([]).api_key_value() == "file-key-Zq8"
    with pytest.raises(SettingsError, match="not both"):
        parse_settings(["--api-key", "other"])
    monkeypatch.delenv("AGENT_SERVER_API_KEY_FILE")
    with pytest.raises(SettingsError, match="cannot read the API key file"):
        parse_settings(["--api-key-file", str(tmp_path / "missing")])
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(SettingsError, match="is empty"):
        parse_settings(["--api-key-file", str(tmp_path / "empty")])


def test_api_key_file_through_a_pipe(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"piped-key-Wm3\n")
    os.close(write_end)
    try:
        assert parse_settings(["--api-key-file", f"/dev/fd/{read_end}"]).api_key_value() == "piped-key-Wm3"
    finally:
        os.close(read_end)


def test_invalid_settings_exit_2_without_a_traceback(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "claude_agent_server", "--port", "70000", "--workspace", str(tmp_path)],
        env=clean_env(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 2 and "--port / AGENT_SERVER_PORT" in run.stderr and "Traceback" not in run.stderr
