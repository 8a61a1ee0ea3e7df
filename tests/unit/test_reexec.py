"""Finding the secrets to hide, and reading them back from the inherited pipe (the exec itself: e2e/test_secrets.py)."""

from __future__ import annotations

import json
import os

import pytest

from claude_agent_server.reexec import FD_VARIABLE, inherited_secrets, split_secrets

PG = "postgresql+asyncpg://agent:pw-Tk4@db/registry"


@pytest.mark.parametrize(
    ("args", "environ", "secrets", "kept", "dropped"),
    [
        ([], {}, {}, [], []),
        (["--port", "1"], {"AGENT_SERVER_PORT": "2"}, {}, ["--port", "1"], []),
        ([], {"AGENT_SERVER_API_KEY": "env-key"}, {"api_key": "env-key"}, [], ["AGENT_SERVER_API_KEY"]),
        (["--api-key", "flag-key", "--demo"], {}, {"api_key": "flag-key"}, ["--demo"], []),
        (["--api-key=flag-key"], {"AGENT_SERVER_API_KEY": "env-key"}, {"api_key": "flag-key"}, [], ["AGENT_SERVER_API_KEY"]),
        ([], {"AGENT_SERVER_DATABASE_URL": PG}, {"database_url": PG}, [], ["AGENT_SERVER_DATABASE_URL"]),
        (["--database-url", PG], {}, {"database_url": PG}, [], []),
        # no password: nothing to hide
        (["--database-url", "postgresql+asyncpg://agent@db/r"], {"AGENT_SERVER_DATABASE_URL": "sqlite:///x.db"}, {},
         ["--database-url", "postgresql+asyncpg://agent@db/r"], []),
        (["--api-key"], {}, {}, ["--api-key"], []),  # no value: left for the parser to refuse
        (["--", "--api-key", "x"], {}, {}, ["--", "--api-key", "x"], []),
    ],
)
def test_split_secrets(args: list[str], environ: dict[str, str], secrets: dict[str, str], kept: list[str], dropped: list[str]) -> None:
    assert split_secrets(args, environ) == (secrets, kept, dropped)


def test_inherited_secrets_read_and_close_the_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    assert inherited_secrets() == {}
    read_end, write_end = os.pipe()
    os.write(write_end, json.dumps({"api_key": "k-Rz2", "database_url": PG}).encode())
    os.close(write_end)
    monkeypatch.setenv(FD_VARIABLE, str(read_end))
    assert inherited_secrets() == {"api_key": "k-Rz2", "database_url": PG}
    assert FD_VARIABLE not in os.environ
    with pytest.raises(OSError):
        os.fstat(read_end)  # closed


@pytest.mark.parametrize("content", [b"not json", b'{"other": "x"}', b'["api_key"]'])
def test_inherited_secrets_refuse_odd_content(monkeypatch: pytest.MonkeyPatch, content: bytes) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, content)
    os.close(write_end)
    monkeypatch.setenv(FD_VARIABLE, str(read_end))
    with pytest.raises(ValueError, match=FD_VARIABLE):
        inherited_secrets()


def test_inherited_secrets_without_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FD_VARIABLE, "987")
    with pytest.raises(ValueError, match="no secrets to read"):
        inherited_secrets()
