"""What the server tells its user at start (real use, not ``--demo``): one summary on stderr.

Where it listens, the dashboard, the workspace, the data dir, the registry (password
hidden), whether an API key protects it, and which model credential its sessions will
use — or, when none is found, one line saying how to get one, instead of Claude Code's
"Please run /login" on the first message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from . import __version__
from .settings import Settings

__all__ = ["NO_CREDENTIAL_HINT", "model_credentials", "startup_summary"]

NO_CREDENTIAL_HINT = (
    "no model credential found: set ANTHROPIC_API_KEY (or CLAUDE_CODE_USE_BEDROCK=1, CLAUDE_CODE_USE_VERTEX=1, "
    "ANTHROPIC_BASE_URL, --litellm-config), log in once with Claude Code (claude /login), or run ./start.sh demo"
)

_TOKENS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL")
_SWITCHES = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY")
_FALSE = ("", "0", "false", "no", "off")


def _claude_config_dir(environ: Mapping[str, str], home: Path) -> Path:
    return Path(environ["CLAUDE_CONFIG_DIR"]).expanduser() if environ.get("CLAUDE_CONFIG_DIR") else home / ".claude"


def _has_key_helper(settings_file: Path) -> bool:
    try:
        return bool(json.loads(settings_file.read_text(encoding="utf-8")).get("apiKeyHelper"))
    except (OSError, ValueError, AttributeError):
        return False


def model_credentials(settings: Settings, environ: Mapping[str, str] | None = None, home: Path | None = None) -> list[str]:
    """The model credentials the server's sessions would find, as short labels (no secret values).

    Looks at what Claude Code reads: ``ANTHROPIC_API_KEY``, ``ANTHROPIC_AUTH_TOKEN``,
    ``CLAUDE_CODE_OAUTH_TOKEN``, ``ANTHROPIC_BASE_URL``, ``CLAUDE_CODE_USE_BEDROCK`` /
    ``_VERTEX`` / ``_FOUNDRY``, a login (``.credentials.json``) or an ``apiKeyHelper`` in
    ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``; and this server's ``--litellm-config``.

    Args:
        settings: The server's settings.
        environ: The environment (default: ``os.environ``).
        home: The home directory (default: ``Path.home()``).

    Returns:
        Labels such as ``"ANTHROPIC_API_KEY"`` or ``"Claude Code login (~/.claude/.credentials.json)"``;
        empty when none is found.
    """
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    found = [name for name in _TOKENS if environ.get(name, "").strip()]
    found += [f"{name}=1" for name in _SWITCHES if environ.get(name, "").strip().lower() not in _FALSE]
    if settings.litellm_config is not None:
        found.append(f"LiteLLM config {settings.litellm_config} (sessions started with enable_proxy)")
    config = _claude_config_dir(environ, home)
    if (config / ".credentials.json").is_file():
        found.append(f"Claude Code login ({config / '.credentials.json'})")
    if _has_key_helper(config / "settings.json"):
        found.append(f"apiKeyHelper in {config / 'settings.json'}")
    return found


def startup_summary(settings: Settings, url: str, environ: Mapping[str, str] | None = None, home: Path | None = None) -> str:
    """The start-up summary: one ``label: value`` line each, the model line last (with the
    hint when no credential is found).

    Args:
        settings: The server's settings.
        url: The base URL the server is reachable at (``http://127.0.0.1:8000``).
        environ, home: As for :func:`model_credentials`.
    """
    from .store import default_database_url, redacted

    listening = "" if settings.is_loopback else f" (listening on {settings.host})"
    if settings.api_key is not None:
        key = "set: every API route needs it"
    else:
        key = "none (loopback only; any local process can use the server)"
    credentials = model_credentials(settings, environ, home)
    lines = [
        ("URL", url + listening),
        ("dashboard", f"{url}/ui"),
        ("workspace", str(settings.workspace)),
        ("data dir", str(settings.data_dir)),
        ("database", redacted(settings.database_url or default_database_url(settings.data_dir))),
        ("API key", key),
        ("isolation", "bwrap: each session's CLI in its own sandbox" if settings.isolation == "bwrap" else "none: sessions' tools run with the server's rights"),
        ("model", ", ".join(credentials) if credentials else NO_CREDENTIAL_HINT),
    ]
    width = max(len(label) for label, _ in lines) + 1
    body = "\n".join(f"  {label + ':':<{width}} {value}" for label, value in lines)
    return f"claude-agent-server {__version__}\n{body}"
