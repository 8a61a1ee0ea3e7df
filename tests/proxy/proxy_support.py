"""Constants and helpers shared by the proxy tests (the config the server runs with, SSE parsing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from proxy.upstream import ScriptedUpstream

API_KEY = "proxy-test-key"
UPSTREAM_KEY = "upstream-secret"
ANTHROPIC_KEY = "anthropic-upstream-secret"
CAPPED_TOKENS = 512

CONFIG = """\
model_list:
  - model_name: scripted
    litellm_params:
      model: hosted_vllm/scripted-model
      api_base: {api_base}
      api_key: {upstream_key}
  - model_name: capped
    litellm_params:
      model: hosted_vllm/capped-model
      api_base: {api_base}
      api_key: {upstream_key}
      max_tokens: {capped}
  - model_name: native
    litellm_params:
      model: anthropic/claude-scripted
      api_base: http://127.0.0.1:{port}
      api_key: {anthropic_key}
"""


def write_config(path: Path, upstream: ScriptedUpstream) -> Path:
    """The test LiteLLM config: ``scripted`` and ``capped`` (OpenAI-compatible), ``native`` (Anthropic)."""
    path.write_text(
        CONFIG.format(
            api_base=upstream.api_base,
            upstream_key=UPSTREAM_KEY,
            capped=CAPPED_TOKENS,
            port=upstream.port,
            anthropic_key=ANTHROPIC_KEY,
        )
    )
    return path


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event, data)`` pairs of a Server-Sent Events body."""
    events = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines.get("data", "null"))))
    return events


def streamed_text(text: str) -> str:
    """The text an Anthropic SSE body spells out in its ``text_delta`` events."""
    return "".join(
        data["delta"]["text"]
        for event, data in sse_events(text)
        if event == "content_block_delta" and data["delta"].get("type") == "text_delta"
    )
