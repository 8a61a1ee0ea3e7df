"""Google Vertex AI as the upstream: sandboxed CLIs' requests sent on with a Google access token of the server.

When the server runs with ``CLAUDE_CODE_USE_VERTEX=1``, a sandboxed CLI is told
``CLAUDE_CODE_USE_VERTEX=1``, ``CLAUDE_CODE_SKIP_VERTEX_AUTH=1``,
``ANTHROPIC_VERTEX_BASE_URL=<server>/upstream/vertex``, the server's project
(``ANTHROPIC_VERTEX_PROJECT_ID``) and region (``CLOUD_ML_REGION``), and its session's model
key as ``ANTHROPIC_AUTH_TOKEN``. Measured against the bundled CLI 2.1.330: it then sends
``POST <base>/projects/<project>/locations/<region>/publishers/anthropic/models/<model>:streamRawPredict``
(``:rawPredict`` when not streaming) with ``Authorization: Bearer <model key>``, and nothing else.

The server accepts only its own project and region, and sends the body on to
``https://<region>-aiplatform.googleapis.com/v1`` (``aiplatform.googleapis.com`` for
``global``; or the server's own ``ANTHROPIC_VERTEX_BASE_URL``) with an access token from
the server's Application Default Credentials (google-auth: ``GOOGLE_APPLICATION_CREDENTIALS``,
``gcloud auth application-default login``, the metadata server...; refreshed before it
expires). With ``CLAUDE_CODE_SKIP_VERTEX_AUTH=1`` in the server's own environment it adds
no token but its ``ANTHROPIC_AUTH_TOKEN``, if any. Per-model regions (``VERTEX_REGION_*``)
are not passed to sandboxed sessions: every model call goes to ``CLOUD_ML_REGION``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .bedrock import NoCredentials, truthy

ACTIONS = ("rawPredict", "streamRawPredict")
MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
"""A Vertex model name (``claude-sonnet-4@20250514``, ``count-tokens``)."""
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
PASSED = ("content-type", "accept", "anthropic-version", "anthropic-beta")


@dataclass(slots=True)
class VertexUpstream:
    """The server's Vertex project and region, and how it authenticates."""

    project: str
    region: str
    base_url: str
    unsigned: str | None = None
    """With ``CLAUDE_CODE_SKIP_VERTEX_AUTH`` in the server's env: the ``Authorization`` sent ("" for none)."""
    _credentials: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> VertexUpstream:
        """From the server's environment (region default ``us-east5``, as Claude Code's)."""
        project = env.get("ANTHROPIC_VERTEX_PROJECT_ID") or env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCLOUD_PROJECT") or ""
        region = env.get("CLOUD_ML_REGION") or "us-east5"
        host = "aiplatform.googleapis.com" if region == "global" else f"{region}-aiplatform.googleapis.com"
        base = (env.get("ANTHROPIC_VERTEX_BASE_URL") or f"https://{host}/v1").rstrip("/")
        unsigned = None
        if truthy(env.get("CLAUDE_CODE_SKIP_VERTEX_AUTH")):
            unsigned = f"Bearer {env['ANTHROPIC_AUTH_TOKEN']}" if env.get("ANTHROPIC_AUTH_TOKEN") else ""
        return cls(project, region, base, unsigned)

    def route_env(self, base_url: str, model_key: str) -> dict[str, str]:
        """What a sandboxed CLI is given to reach Vertex through this server (``base_url``) with its model key."""
        return {
            "CLAUDE_CODE_USE_VERTEX": "1",
            "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
            "ANTHROPIC_VERTEX_BASE_URL": f"{base_url}/upstream/vertex",
            "ANTHROPIC_VERTEX_PROJECT_ID": self.project,
            "CLOUD_ML_REGION": self.region,
            "ANTHROPIC_API_KEY": "",
            "ANTHROPIC_AUTH_TOKEN": model_key,
        }

    def url(self, project: str, region: str, model: str, action: str) -> str:
        """The upstream URL of ``model:action`` (the path shape Vertex's Anthropic models use).

        Raises:
            ValueError: another project or region than the server's, or not a model call.
        """
        if project != self.project or region != self.region:
            raise ValueError(f"this server forwards to Vertex project {self.project!r} in {self.region!r} only")
        if action not in ACTIONS or not MODEL.fullmatch(model):
            raise ValueError(f"not a Vertex model call: model {model!r}, action {action!r}")
        return f"{self.base_url}/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:{action}"

    def authenticate(self, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` plus the server's Google access token (blocking: google-auth may refresh it).

        Raises:
            NoCredentials: no Application Default Credentials, or the token could not be refreshed.
        """
        if self.unsigned is not None:
            return headers | ({"authorization": self.unsigned} if self.unsigned else {})
        import google.auth  # imported here: only a server on Vertex pays for google-auth
        import google.auth.exceptions
        import google.auth.transport.requests

        with self._lock:  # one refresh at a time; the token is reused until it nears expiry
            try:
                if self._credentials is None:
                    self._credentials, _ = google.auth.default(scopes=list(SCOPES))
                if not self._credentials.valid:
                    self._credentials.refresh(google.auth.transport.requests.Request())
            except google.auth.exceptions.GoogleAuthError as exc:
                raise NoCredentials(f"no Google access token for Vertex: {type(exc).__name__}: {str(exc)[:200]}") from None
            token = self._credentials.token
        return headers | {"authorization": f"Bearer {token}"}

    def describe(self) -> str:
        """For the start-up log."""
        how = "unsigned (skip-auth)" if self.unsigned is not None else "Google ADC token"
        return f"Vertex {self.project} in {self.region} at {self.base_url}, {how}"
