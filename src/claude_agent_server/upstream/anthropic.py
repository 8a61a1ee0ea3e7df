"""The Anthropic-native upstream: its base URL and the server's credential, as Claude Code reads them.

Which credential, measured against the bundled CLI (2.1.330) pointed at a logging stub:

- ``ANTHROPIC_API_KEY`` → ``x-api-key``; ``ANTHROPIC_AUTH_TOKEN`` → ``Authorization: Bearer``
  (both headers when both are set); either wins over a Claude Code OAuth login.
- A Claude Code OAuth login: ``CLAUDE_CODE_OAUTH_TOKEN`` (``claude setup-token``), else the
  access token of ``$CLAUDE_CONFIG_DIR/.credentials.json`` (default ``~/.claude``, key
  ``claudeAiOauth.accessToken``; the file wins only when the variable is unset) →
  ``Authorization: Bearer <token>`` plus the ``oauth-2025-04-20`` value in ``anthropic-beta``,
  which the CLI adds itself only in OAuth mode (a sandboxed CLI runs in API-key mode with its
  session's model key, so the server adds it). The file is read again whenever it changes, so
  a login refreshed by Claude Code run as the server's user is picked up; an expired token is
  not refreshed here (that needs Anthropic's OAuth endpoint): the upstream's 401 comes back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE_URL = "https://api.anthropic.com"
OAUTH_BETA = "oauth-2025-04-20"
"""The ``anthropic-beta`` value Claude Code sends with an OAuth token (and only then)."""


def credentials_file(env: Mapping[str, str]) -> Path:
    """Where Claude Code keeps its login: ``$CLAUDE_CONFIG_DIR/.credentials.json`` or ``~/.claude/.credentials.json``."""
    config = env.get("CLAUDE_CONFIG_DIR") or str(Path(env.get("HOME") or Path.home()) / ".claude")
    return Path(config).expanduser() / ".credentials.json"


@dataclass(slots=True)
class OAuthLogin:
    """A Claude Code OAuth access token: fixed (``CLAUDE_CODE_OAUTH_TOKEN``) or read from a credentials file."""

    token: str | None = None
    path: Path | None = None
    _seen: tuple[int, int] | None = field(default=None, repr=False)

    def access_token(self) -> str | None:
        """The token to send (None: no login). Re-reads the file when its mtime or size changed (blocking, small)."""
        if self.path is None:
            return self.token
        try:
            stat = self.path.stat()
        except OSError:
            return None
        if (stat.st_mtime_ns, stat.st_size) != self._seen:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                token = data["claudeAiOauth"]["accessToken"]
            except (OSError, ValueError, KeyError, TypeError):
                token = None
            self.token = token if isinstance(token, str) and token else None
            self._seen = (stat.st_mtime_ns, stat.st_size)
        return self.token


@dataclass(slots=True)
class AnthropicUpstream:
    """An Anthropic Messages API upstream (``ANTHROPIC_BASE_URL``) and the server's credential for it."""

    base_url: str
    api_key: str | None = None
    auth_token: str | None = None
    oauth: OAuthLogin | None = None

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> AnthropicUpstream:
        """As Claude Code itself reads ``env`` (see the module docstring)."""
        api_key, auth_token = env.get("ANTHROPIC_API_KEY") or None, env.get("ANTHROPIC_AUTH_TOKEN") or None
        oauth = None
        if not (api_key or auth_token):
            fixed = env.get("CLAUDE_CODE_OAUTH_TOKEN")
            oauth = OAuthLogin(token=fixed) if fixed else OAuthLogin(path=credentials_file(env))
        return cls((env.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"), api_key, auth_token, oauth)

    def credential(self, beta: str | None) -> dict[str, str]:
        """The headers that authenticate a request whose ``anthropic-beta`` was ``beta`` (rewritten for OAuth)."""
        headers: dict[str, str] = {}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        if self.auth_token:
            headers["authorization"] = f"Bearer {self.auth_token}"
        token = None if headers or self.oauth is None else self.oauth.access_token()
        if token:
            headers["authorization"] = f"Bearer {token}"
            values = [v.strip() for v in (beta or "").split(",") if v.strip()]
            headers["anthropic-beta"] = ",".join(values if OAUTH_BETA in values else [*values, OAUTH_BETA])
        return headers

    @property
    def kind(self) -> str:
        """How the server authenticates upstream (for the start-up log): api key, auth token, oauth or none."""
        if self.api_key or self.auth_token:
            return "api key" if self.api_key else "auth token"
        if self.oauth is not None and (self.oauth.token or (self.oauth.path and self.oauth.path.exists())):
            return "Claude Code OAuth login"
        return "no credential"

