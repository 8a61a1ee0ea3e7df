"""Proxy fixtures: scripted upstreams on 127.0.0.1, a LiteLLM config naming them, a real server using it.

``upstream`` is the model provider the config names; ``attacker`` is a second
server that no request may ever reach. The server is the real
``claude-agent-server`` process, so ``/v1/messages`` runs exactly as deployed
(LiteLLM imported lazily on the first request).
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import pytest

from proxy.proxy_support import API_KEY, write_config
from proxy.upstream import ScriptedUpstream, scripted_upstream
from servers import ServerProcess, running_server


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
