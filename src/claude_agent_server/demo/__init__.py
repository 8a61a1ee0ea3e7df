"""The offline demo model: a scripted Anthropic-Messages-compatible model (``--demo``)."""

from .model import Reply, reply_to
from .routes import router

__all__ = ["Reply", "reply_to", "router"]
