"""Observability: Prometheus metrics and the audit log, both fed by the session events.

The session layer does not know this package: the app registers
:meth:`ServerMetrics.observe` as an observer of the manager's events, and the API
layer serves ``GET /metrics``, counts SSE subscribers and times proxied requests.
"""

from .metrics import MetricsSource, ServerMetrics
from .proxy import ProxyTimer

__all__ = ["MetricsSource", "ProxyTimer", "ServerMetrics"]
