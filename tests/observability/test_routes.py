"""``GET /metrics``, SSE subscribers and proxy timing on tiny apps (not ``create_app``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sse_starlette import ServerSentEvent

from claude_agent_server.api import metrics as metrics_route
from claude_agent_server.api import proxy as proxy_routes
from claude_agent_server.web.sse import event_stream
from claude_agent_server.observability import ServerMetrics
from claude_agent_server.proxy import ModelNotFound
from claude_agent_server.store import WriterHealth
from claude_agent_server.web.state import ServerState

KEY = "metrics-test-key"
P = "claude_agent_server_"


class FakeManager:
    live_count = 3  # warm ones included
    warm_count = 2
    registry = SimpleNamespace(health=lambda: WriterHealth("ok", None, None, 0, 0, persisted=7, spilled=0, dropped=0, batches=1))

    async def counts(self) -> dict[str, int]:
        return {"live": 3, "hibernated": 4}


def tiny_app(api_key: str | None = KEY, public: bool = False) -> FastAPI:
    app = FastAPI()
    app.state.server = ServerState(  # what the lifespan builds, with stand-ins for the parts these routes read
        settings=SimpleNamespace(api_key_value=lambda: api_key), manager=FakeManager(), metrics=ServerMetrics(),  # type: ignore[arg-type]
        proxy=None, opencode=None, gateway=None, address=None, responses=None, identities=None,  # type: ignore[arg-type]
    )
    metrics_route.install(app, public=public)
    return app


def test_metrics_need_the_api_key() -> None:
    with TestClient(tiny_app()) as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
        reply = http.get("/metrics", headers={"authorization": f"Bearer {KEY}"})
        assert reply.status_code == 200
        assert http.get("/metrics", headers={"x-api-key": KEY}).status_code == 200
    assert reply.headers["content-type"] == CONTENT_TYPE_PLAIN_0_0_4
    lines = reply.text.splitlines()
    assert f'{P}sessions{{state="live"}} 1.0' in lines and f'{P}sessions{{state="warm"}} 2.0' in lines
    assert f'{P}sessions{{state="hibernated"}} 4.0' in lines
    assert f"{P}cli_processes 3.0" in lines
    assert f"{P}events_persisted_total 7.0" in lines
    assert f'{P}turns_total{{outcome="completed"}} 0.0' in lines
    assert f"# TYPE {P}turn_duration_seconds histogram" in lines


def test_public_metrics_need_no_key() -> None:
    with TestClient(tiny_app(public=True)) as http:
        reply = http.get("/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"] == CONTENT_TYPE_PLAIN_0_0_4


def test_openmetrics_when_the_scraper_asks() -> None:
    with TestClient(tiny_app(api_key=None)) as http:
        reply = http.get("/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"})
    assert reply.headers["content-type"].startswith("application/openmetrics-text")
    assert reply.text.endswith("# EOF\n")


def test_sse_responses_are_counted_while_sent() -> None:
    app = tiny_app(api_key=None)
    metrics: ServerMetrics = app.state.server.metrics

    async def frames() -> AsyncIterator[ServerSentEvent]:
        for _ in range(2):
            yield ServerSentEvent(data=json.dumps(metrics.registry.get_sample_value(f"{P}sse_subscribers")))

    @app.get("/stream")
    async def stream() -> Any:
        return event_stream(frames(), heartbeat=15)

    with TestClient(app) as http:
        body = http.get("/stream").text
    assert [line for line in body.splitlines() if line.startswith("data:")] == ["data: 1.0", "data: 1.0"]
    assert metrics.registry.get_sample_value(f"{P}sse_subscribers") == 0


class FakeProxy:
    """Answers ``/v1/messages`` as told: a dict, a stream of chunks, or an exception."""

    def __init__(self) -> None:
        self.answer: Any = {"type": "message", "content": []}

    async def messages(self, body: Any, headers: Any) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        if isinstance(self.answer, list):
            return self._stream(self.answer)
        return self.answer

    async def count_tokens(self, body: Any) -> dict[str, int]:
        return {"input_tokens": 3}

    async def _stream(self, chunks: list[bytes]) -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk


@pytest.fixture
def proxied() -> tuple[TestClient, FakeProxy, ServerMetrics]:
    app = tiny_app(api_key=None)
    app.state.server.proxy = FakeProxy()
    proxy_routes.install(app)
    return TestClient(app), app.state.server.proxy, app.state.server.metrics


def test_proxy_requests_by_model_and_status(proxied: tuple[TestClient, FakeProxy, ServerMetrics]) -> None:
    http, fake, metrics = proxied
    body = {"model": "claude-x", "max_tokens": 10, "messages": []}
    assert http.post("/v1/messages", json=body).status_code == 200
    assert http.post("/v1/messages/count_tokens", json=body).json() == {"input_tokens": 3}
    fake.answer = [b"event: message_start\ndata: {}\n\n", b"event: message_stop\ndata: {}\n\n"]
    assert "message_stop" in http.post("/v1/messages", json={**body, "stream": True}).text
    fake.answer = ModelNotFound("no such model")
    assert http.post("/v1/messages", json={**body, "model": "made-up"}).status_code == 404
    assert http.post("/v1/messages", content=b"not json").status_code == 400

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(P + name, labels)

    assert sample("proxy_requests_total", model="claude-x", status="200") == 3
    assert sample("proxy_request_duration_seconds_count", model="claude-x") == 3
    assert sample("proxy_requests_total", model="unknown", status="404") == 1
    assert sample("proxy_requests_total", model="unknown", status="400") == 1
    assert sample("proxy_requests_total", model="made-up", status="404") is None
