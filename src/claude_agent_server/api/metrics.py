"""``GET /metrics``: the server's Prometheus metrics (see :mod:`claude_agent_server.observability`).

The exposition format follows the scraper's ``Accept`` header as prometheus-client's
own handler does: the text format 0.0.4 by default, OpenMetrics when asked for.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client.exposition import choose_encoder

from ..web.auth import require_api_key
from ..web.deps import StateDep


async def metrics(request: Request, state: StateDep) -> Response:
    """The metrics, with the sessions, processes and registry totals read now."""
    await state.metrics.refresh(state.manager)
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(state.metrics.registry), media_type=content_type)


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
