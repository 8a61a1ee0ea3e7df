"""The server's own model upstream, reached for sandboxed sessions with the server's credentials.

A sandboxed session's CLI holds no credential of the server: it is pointed at this server
(``/upstream/...``) with its session's model key, and the server sends each request on, byte
for byte, to the upstream its own environment names, as Claude Code would read it:

- ``CLAUDE_CODE_USE_BEDROCK`` → :class:`.BedrockUpstream` (re-signed with SigV4);
- else ``CLAUDE_CODE_USE_VERTEX`` → :class:`.VertexUpstream` (a Google access token added);
- else :class:`.AnthropicUpstream` (``ANTHROPIC_BASE_URL``; an API key, auth token or Claude
  Code OAuth login).

Domain code (no FastAPI): the routes are in ``api/upstream.py``. Only the configured one of
the three is set; the others' routes answer 404.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..proxy import ProxyError
from .anthropic import OAUTH_BETA, AnthropicUpstream, OAuthLogin
from .bedrock import BedrockUpstream, NoCredentials, truthy
from .vertex import VertexUpstream

__all__ = [
    "OAUTH_BETA", "AnthropicUpstream", "BedrockUpstream", "NoCredentials", "NoUpstream", "OAuthLogin", "Upstream",
    "UpstreamCredentialsMissing", "UpstreamUnreachable", "VertexUpstream", "credential_paths",
]

CREDENTIAL_FILES = (
    "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)
"""Variables naming files or directories that hold the server's cloud credentials (the defaults,
``~/.aws`` and ``~/.config/gcloud``, are in the server's HOME, hidden from sandboxes anyway)."""


def credential_paths(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The credential files and directories the server's environment names (:data:`CREDENTIAL_FILES`):
    paths a sandbox must hide."""
    env = os.environ if environ is None else environ
    return [Path(env[name]).expanduser() for name in CREDENTIAL_FILES if env.get(name)]


class UpstreamUnreachable(ProxyError):
    """The upstream could not be reached, or the server could not authenticate to it (502)."""

    status_code = 502
    error_type = "api_error"


class UpstreamCredentialsMissing(UpstreamUnreachable):
    """The server has no credential to authenticate to its upstream with (502, not to be retried: a
    client that retries a 502 would wait minutes for a configuration that will not change)."""

    headers = {"x-should-retry": "false"}


class NoUpstream(ProxyError):
    """Nothing is forwarded this way: sessions are not sandboxed, or the server uses another provider (404)."""

    status_code = 404
    error_type = "not_found_error"


@dataclass(slots=True)
class Upstream:
    """The one upstream in force (the others None) and the HTTP client that reaches it."""

    client: httpx.AsyncClient
    anthropic: AnthropicUpstream | None = None
    bedrock: BedrockUpstream | None = None
    vertex: VertexUpstream | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Upstream:
        """The upstream the server's environment (default ``os.environ``) names; see the module docstring."""
        env = os.environ if environ is None else environ
        client = httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=10.0))
        if truthy(env.get("CLAUDE_CODE_USE_BEDROCK")):
            return cls(client, bedrock=BedrockUpstream.from_environment(env))
        if truthy(env.get("CLAUDE_CODE_USE_VERTEX")):
            return cls(client, vertex=VertexUpstream.from_environment(env))
        return cls(client, anthropic=AnthropicUpstream.from_environment(env))

    def route_env(self, base_url: str, model_key: str) -> dict[str, str]:
        """Variables a sandboxed CLI gets on top of ``ANTHROPIC_BASE_URL=<base_url>/upstream`` and its
        model key as ``ANTHROPIC_API_KEY`` (Bedrock and Vertex: their own base URL, skip-auth, region)."""
        if self.bedrock is not None:
            return self.bedrock.route_env(base_url, model_key)
        if self.vertex is not None:
            return self.vertex.route_env(base_url, model_key)
        return {}

    def describe(self) -> str:
        """One line for the start-up log (never a credential)."""
        if self.bedrock is not None:
            return self.bedrock.describe()
        if self.vertex is not None:
            return self.vertex.describe()
        assert self.anthropic is not None
        return f"Anthropic at {self.anthropic.base_url}, {self.anthropic.kind}"

    async def send(
        self, url: str, headers: dict[str, str], content: bytes | AsyncIterable[bytes], params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``content`` to ``url``; the response with its body not read yet (the caller streams
        and closes it). The body comes back as the upstream sent it (``accept-encoding: identity``).

        Raises:
            UpstreamUnreachable: no connection, or it broke before the response's headers.
        """
        request = self.client.build_request("POST", url, params=params, headers={**headers, "accept-encoding": "identity"}, content=content)
        try:
            return await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise UpstreamUnreachable(f"the model upstream could not be reached: {type(exc).__name__}") from None

    async def aclose(self) -> None:
        await self.client.aclose()
