"""What a ``/v1/messages`` request may carry into LiteLLM: an allowlist, never a blocklist.

LiteLLM accepts hundreds of keyword arguments next to the Anthropic fields, and
many of them choose a destination or a credential (``api_base``, ``base_url``,
``api_key``, ``custom_llm_provider``, ``extra_headers``, ``aws_*``,
``vertex_*``, ``langfuse_host``, ``s3_endpoint_url``, ``mock_response``, ...).
A body key that reached LiteLLM unchecked would let anyone who can reach the
proxy send the server's provider keys to a host of their choosing. So only the
Anthropic Messages fields below pass; ``metadata`` keeps only ``user_id``; tool
definitions lose any routing key; everything else is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import InvalidRequest

MESSAGE_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "metadata",
        "stop_sequences",
        "stream",
        "temperature",
        "top_k",
        "top_p",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "output_format",
        "context_management",
        "service_tier",
    }
)
"""Anthropic Messages API body fields forwarded to LiteLLM. Not ``container`` or
``mcp_servers``: those name remote resources (skills, MCP server URLs)."""

COUNT_FIELDS = frozenset({"model", "messages", "system", "tools"})
"""Body fields ``count_tokens`` uses."""

TOOL_ROUTING_KEYS = frozenset(
    {"api_base", "base_url", "api_key", "api_version", "custom_llm_provider", "extra_headers", "headers", "url", "server_url"}
)
"""Keys removed from every tool definition (LiteLLM's advisor tool honours ``api_base``/``api_key``)."""

FORWARDED_ANTHROPIC_HEADERS = ("anthropic-beta",)
"""Client headers passed on, and only to Anthropic itself (LiteLLM sets ``anthropic-version``)."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidRequest(message)


def _check_common(body: Any) -> dict[str, Any]:
    _require(isinstance(body, dict), "the request body must be a JSON object")
    model = body.get("model")
    _require(isinstance(model, str) and bool(model.strip()), "model: a non-empty string is required")
    messages = body.get("messages")
    _require(isinstance(messages, list) and bool(messages), "messages: a non-empty list is required")
    for index, message in enumerate(messages):
        _require(
            isinstance(message, dict) and isinstance(message.get("role"), str),
            f"messages[{index}]: an object with a role is required",
        )
        _require(
            isinstance(message.get("content"), (str, list)),
            f"messages[{index}].content: a string or a list of content blocks is required",
        )
    system = body.get("system")
    _require(system is None or isinstance(system, (str, list)), "system: a string or a list of text blocks is required")
    tools = body.get("tools")
    _require(tools is None or (isinstance(tools, list) and all(isinstance(t, dict) for t in tools)), "tools: a list of objects is required")
    return body


def _clean_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in tool.items() if k not in TOOL_ROUTING_KEYS} for tool in tools]


def clean_messages_body(body: Any) -> dict[str, Any]:
    """Validate a Messages request and keep only what may reach LiteLLM.

    Args:
        body: The parsed JSON body.

    Returns:
        A new dict with only :data:`MESSAGE_FIELDS`; ``metadata`` reduced to
        ``{"user_id": str}`` (or dropped), tools without :data:`TOOL_ROUTING_KEYS`.

    Raises:
        InvalidRequest: not an object; ``model``, ``messages`` or ``max_tokens``
            missing or of the wrong type; a bad ``stream``, ``system`` or ``tools``.
    """
    body = _check_common(body)
    max_tokens = body.get("max_tokens")
    _require(
        isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 1,
        "max_tokens: a positive integer is required",
    )
    _require(isinstance(body.get("stream", False), bool), "stream: a boolean is required")
    clean = {key: value for key, value in body.items() if key in MESSAGE_FIELDS and value is not None}
    metadata = clean.pop("metadata", None)
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        clean["metadata"] = {"user_id": metadata["user_id"]}
    if "tools" in clean:
        clean["tools"] = _clean_tools(clean["tools"])
    return clean


def clean_count_body(body: Any) -> dict[str, Any]:
    """Validate a ``count_tokens`` request and keep :data:`COUNT_FIELDS`.

    Raises:
        InvalidRequest: as :func:`clean_messages_body`, but ``max_tokens`` is not needed.
    """
    body = _check_common(body)
    clean = {key: value for key, value in body.items() if key in COUNT_FIELDS and value is not None}
    if "tools" in clean:
        clean["tools"] = _clean_tools(clean["tools"])
    return clean


def upstream_headers(headers: Mapping[str, str], provider: str) -> dict[str, str]:
    """The client headers to send upstream: ``anthropic-beta`` to Anthropic, nothing to anyone else.

    The client's ``x-api-key``/``Authorization`` (this server's key) is never forwarded.
    """
    if provider != "anthropic":
        return {}
    lowered = {k.lower(): v for k, v in headers.items()}
    return {name: lowered[name] for name in FORWARDED_ANTHROPIC_HEADERS if lowered.get(name)}


def system_text(system: str | list[Any] | None) -> str | None:
    """A ``system`` value as plain text (text blocks joined by blank lines), for token counting."""
    if system is None or isinstance(system, str):
        return system
    parts = [block.get("text", "") for block in system if isinstance(block, dict)]
    return "\n\n".join(p for p in parts if isinstance(p, str) and p) or None
