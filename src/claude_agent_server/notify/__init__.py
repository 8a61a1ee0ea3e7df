"""Notifications to the outside world: webhooks (:mod:`.webhooks`)."""

from .webhooks import WebhookSender

__all__ = ["WebhookSender"]
