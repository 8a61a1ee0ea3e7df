"""Amazon Bedrock as the upstream: sandboxed CLIs' requests re-signed with the server's AWS credentials.

When the server runs with ``CLAUDE_CODE_USE_BEDROCK=1``, a sandboxed CLI is told (measured
against the bundled CLI 2.1.330 with a logging stub):

- ``CLAUDE_CODE_USE_BEDROCK=1``, ``CLAUDE_CODE_SKIP_BEDROCK_AUTH=1`` and
  ``ANTHROPIC_BEDROCK_BASE_URL=<server>/upstream/bedrock``: it then sends
  ``POST <base>/model/<model id>/invoke-with-response-stream`` (``/invoke`` when not
  streaming) without any AWS signature;
- ``ANTHROPIC_AUTH_TOKEN=<its session's model key>``: with skip-auth the CLI sends it as
  ``Authorization: Bearer`` on those calls (``ANTHROPIC_API_KEY`` is not sent in Bedrock
  mode; ``ANTHROPIC_CUSTOM_HEADERS`` would also work, but this is the documented gateway way);
- ``AWS_REGION`` (the server's region; the CLI needs one).

Before its first turn the CLI also lists ``GET <base>/inference-profiles?type=SYSTEM_DEFINED``
(Bedrock's control plane) with no credential at all; the server has no route for it and the
CLI goes on after the refusal (measured).

The server signs each request anew with SigV4 (botocore's ``SigV4Auth``, service
``bedrock``) using the credentials botocore's default chain finds in the server's own
environment (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``,
``AWS_PROFILE``, SSO, instance roles...; refreshed by botocore), and sends it to
``https://bedrock-runtime.<region>.amazonaws.com`` (or the server's own
``ANTHROPIC_BEDROCK_BASE_URL``). With ``AWS_BEARER_TOKEN_BEDROCK`` (a Bedrock API key) the
server sends that as ``Authorization: Bearer`` instead, as Claude Code does; with
``CLAUDE_CODE_SKIP_BEDROCK_AUTH=1`` in the server's own environment (a gateway of its own)
it signs nothing and sends its ``ANTHROPIC_AUTH_TOKEN``, if any.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

ACTIONS = ("invoke", "invoke-with-response-stream", "count-tokens")
"""The Bedrock runtime operations a session may call on a model (fixed path shapes)."""
MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,255}")
"""A model id, inference profile id or ARN (``arn:aws:bedrock:<region>:<account>:.../<id>``)."""
SERVICE = "bedrock"
"""The SigV4 signing name of ``bedrock-runtime``."""
SIGNED = ("content-type", "accept")
"""Request headers passed on (and signed); Bedrock reads ``anthropic_beta`` from the body."""


class NoCredentials(Exception):
    """botocore found no AWS credentials in the server's environment."""


def truthy(value: str | None) -> bool:
    """Claude Code's reading of a flag variable (``1``, ``true``, ``yes``, ``on``)."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(slots=True)
class BedrockUpstream:
    """Bedrock's runtime endpoint for ``region`` and how the server authenticates to it."""

    region: str
    base_url: str
    bearer: str | None = None
    """``AWS_BEARER_TOKEN_BEDROCK``: sent as ``Authorization: Bearer`` instead of a signature."""
    unsigned: str | None = None
    """With ``CLAUDE_CODE_SKIP_BEDROCK_AUTH`` in the server's env: the ``Authorization`` sent ("" for none)."""
    _credentials: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> BedrockUpstream:
        """From the server's environment (``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else ``us-east-1``)."""
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        base = (env.get("ANTHROPIC_BEDROCK_BASE_URL") or f"https://bedrock-runtime.{region}.amazonaws.com").rstrip("/")
        unsigned = None
        if truthy(env.get("CLAUDE_CODE_SKIP_BEDROCK_AUTH")):
            unsigned = f"Bearer {env['ANTHROPIC_AUTH_TOKEN']}" if env.get("ANTHROPIC_AUTH_TOKEN") else ""
        return cls(region, base, env.get("AWS_BEARER_TOKEN_BEDROCK") or None, unsigned)

    def route_env(self, base_url: str, model_key: str) -> dict[str, str]:
        """What a sandboxed CLI is given to reach Bedrock through this server (``base_url``) with its model key."""
        return {
            "CLAUDE_CODE_USE_BEDROCK": "1",
            "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1",
            "ANTHROPIC_BEDROCK_BASE_URL": f"{base_url}/upstream/bedrock",
            "AWS_REGION": self.region,
            "ANTHROPIC_API_KEY": "",
            "ANTHROPIC_AUTH_TOKEN": model_key,
        }

    def url(self, model: str, action: str) -> str:
        """The upstream URL of ``action`` on ``model`` (the id percent-encoded as one path segment).

        Raises:
            ValueError: ``model`` is not a model id or ``action`` not one of :data:`ACTIONS`.
        """
        if action not in ACTIONS or not MODEL_ID.fullmatch(model):
            raise ValueError(f"not a Bedrock model call: model {model!r}, action {action!r}")
        return f"{self.base_url}/model/{quote(model, safe='')}/{action}"

    def authenticate(self, url: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
        """``headers`` plus the server's authentication for a POST of ``body`` to ``url`` (blocking:
        botocore may refresh credentials).

        Raises:
            NoCredentials: no AWS credentials in the server's environment.
        """
        if self.unsigned is not None:
            return headers | ({"authorization": self.unsigned} if self.unsigned else {})
        if self.bearer:
            return headers | {"authorization": f"Bearer {self.bearer}"}
        from botocore.auth import SigV4Auth  # imported here: only a server on Bedrock pays for botocore
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        SigV4Auth(self._frozen(), SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())

    def _frozen(self) -> Any:
        with self._lock:
            if self._credentials is None:
                import botocore.session

                self._credentials = botocore.session.get_session().get_credentials()
        if self._credentials is None:
            raise NoCredentials("the server has no AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...) to sign Bedrock requests")
        return self._credentials.get_frozen_credentials()

    def describe(self) -> str:
        """For the start-up log."""
        how = "unsigned (skip-auth)" if self.unsigned is not None else "Bedrock API key" if self.bearer else "SigV4"
        return f"Bedrock {self.region} at {self.base_url}, {how}"
