"""The LiteLLM bridge behind ``/v1/messages``: Claude Code (or any Anthropic client) on any LiteLLM provider.

Domain code only (no FastAPI here): :class:`ProxyService` takes an Anthropic
Messages body and returns an Anthropic message or its SSE bytes; errors are
:class:`ProxyError` s that render in Anthropic's error shape.
"""

from .config import ProxyConfig, load_config, parse_config
from .errors import (
    AuthenticationFailed,
    InvalidRequest,
    ModelNotFound,
    ProxyConfigError,
    ProxyError,
    UpstreamError,
    from_exception,
)
from .routing import ModelRouter, Target
from .service import ProxyService

__all__ = [
    "AuthenticationFailed",
    "InvalidRequest",
    "ModelNotFound",
    "ModelRouter",
    "ProxyConfig",
    "ProxyConfigError",
    "ProxyError",
    "ProxyService",
    "Target",
    "UpstreamError",
    "from_exception",
    "load_config",
    "parse_config",
]
