"""``GET /metrics``: the server's Prometheus metrics (see :mod:`claude_agent_server.observability`).

The exposition format follows the scraper's ``Accept`` header as prometheus-client's
own handler does: the text format 0.0.4 by default, OpenMetrics when asked for.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette

from ..observability import ServerMetrics
from .auth import require_api_key


def app_metrics(app: Starlette) -> ServerMetrics | None:
    """The app's :class:`ServerMetrics` (``app.state.metrics``), if it has one."""
    return getattr(app.state, "metrics", None)


async def metrics(request: Request) -> Response:
    """The metrics, with the sessions, processes and registry totals read now."""
    server_metrics: ServerMetrics = request.app.state.metrics
    await server_metrics.refresh(request.app.state.manager)
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(server_metrics.registry), media_type=content_type)


def install(app: FastAPI, public: bool) -> None:
    """Add ``GET /metrics`` to ``app``: behind the server's API key unless ``public``."""
    app.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        dependencies=[] if public else [Depends(require_api_key)],
        tags=["metrics"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"}},
    )
