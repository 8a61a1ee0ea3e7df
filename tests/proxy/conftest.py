"""Proxy fixtures: scripted upstreams on 127.0.0.1, a LiteLLM config naming them, a real server using it.

``upstream`` is the model provider the config names; ``attacker`` is a second
server that no request may ever reach. The server is the real
``claude-agent-server`` process, so ``/v1/messages`` runs exactly as deployed
(LiteLLM imported lazily on the first request).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import pytest

from servers import ServerProcess, running_server
from upstream import ScriptedUpstream, scripted_upstream

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


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedUpstream]:
    with scripted_upstream() as live:
        yield live


@pytest.fixture(scope="module")
def attacker() -> Iterator[ScriptedUpstream]:
    """A host a malicious request body would like the server to call."""
    with scripted_upstream() as live:
        yield live


@pytest.fixture(scope="module")
def proxy_server(tmp_path_factory: pytest.TempPathFactory, upstream: ScriptedUpstream) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("proxy-server")
    config = write_config(root / "litellm.yaml", upstream)
    with running_server(root, "--litellm-config", str(config), api_key=API_KEY) as live:
        yield live


@pytest.fixture(autouse=True)
def _fresh_records(request: pytest.FixtureRequest) -> None:
    """Each test sees only the upstream requests it caused."""
    for name in ("upstream", "attacker"):
        if name in request.fixturenames:
            request.getfixturevalue(name).requests.clear()


@pytest.fixture
def client(proxy_server: ServerProcess) -> Iterator[anthropic.Anthropic]:
    """The official Anthropic SDK pointed at the server (no retries, so errors show as they are)."""
    with anthropic.Anthropic(base_url=proxy_server.url, api_key=API_KEY, max_retries=0, timeout=60) as sdk:
        yield sdk


@pytest.fixture
def raw(proxy_server: ServerProcess) -> Iterator[httpx.Client]:
    """Plain HTTP to the server with the right ``x-api-key``."""
    with httpx.Client(base_url=proxy_server.url, headers={"x-api-key": API_KEY}, timeout=60) as http:
        yield http
