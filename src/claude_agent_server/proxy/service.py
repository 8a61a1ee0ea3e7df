"""The proxy: Anthropic Messages requests in, LiteLLM calls out.

:class:`ProxyService` is created at startup (cheap: it only reads the config);
LiteLLM is imported on the first request, in a worker thread so the event loop
keeps serving sessions meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from types import ModuleType
from typing import Any

from .config import ProxyConfig
from .errors import InvalidRequest, from_exception
from .request import clean_count_body, clean_messages_body, system_text, upstream_headers
from .routing import ModelRouter, Target
from .runtime import import_litellm
from .stream import open_stream

log = logging.getLogger(__name__)


USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def anthropic_message(result: dict[str, Any], model: str) -> dict[str, Any]:
    """An upstream's message as Anthropic clients expect it: a ``msg_`` id, the model name
    the client asked for, and every usage field (0 when the upstream gave none)."""
    message = {key: value for key, value in result.items() if not key.startswith("_")}
    if not str(message.get("id", "")).startswith("msg_"):
        message["id"] = f"msg_{uuid.uuid4().hex[:24]}"
    usage = dict(message.get("usage") or {})
    usage.update({field: usage.get(field) or 0 for field in USAGE_FIELDS})
    return {**message, "type": "message", "role": "assistant", "model": model, "usage": usage}


class ProxyService:
    """Serves ``/v1/messages`` and ``/v1/messages/count_tokens`` through LiteLLM.

    Args:
        config: The LiteLLM config (None: only models LiteLLM can route by name).
        default_max_tokens: Cap on ``max_tokens`` for models without their own (tokens).
        timeout: Seconds an upstream call may take.
        allow_unlisted: Serve model names missing from the config as ``provider/model``.
    """

    def __init__(
        self,
        config: ProxyConfig | None,
        *,
        default_max_tokens: int = 8192,
        timeout: float = 600.0,
        allow_unlisted: bool = False,
    ) -> None:
        self.config = config
        self.default_max_tokens = default_max_tokens
        self.timeout = timeout
        self.allow_unlisted = allow_unlisted
        self._litellm: ModuleType | None = None
        self._router: ModelRouter | None = None
        self._lock = asyncio.Lock()

    async def _ready(self) -> tuple[ModuleType, ModelRouter]:
        """Import LiteLLM and build the router once (the first call takes seconds)."""
        if self._litellm is None or self._router is None:
            async with self._lock:
                if self._litellm is None or self._router is None:
                    litellm = await asyncio.to_thread(import_litellm)
                    self._router = ModelRouter(
                        litellm, self.config, default_max_tokens=self.default_max_tokens, allow_unlisted=self.allow_unlisted
                    )
                    self._litellm = litellm
        return self._litellm, self._router

    async def messages(self, body: Any, headers: Mapping[str, str] | None = None) -> dict[str, Any] | AsyncIterator[bytes]:
        """Answer one Messages request.

        Args:
            body: The parsed JSON body (validated and reduced here; see :mod:`.request`).
            headers: The client's headers; only ``anthropic-beta``, and only to Anthropic, is passed on.

        Returns:
            The Anthropic message as a dict, or for ``stream: true`` an iterator of
            SSE event bytes (``message_start`` ... ``message_stop``; a later failure
            is an ``event: error`` frame).

        Raises:
            ProxyError: bad body (400), unknown model (404), or an upstream failure
                before the first streamed byte (4xx kept, 5xx → 502).
        """
        request = clean_messages_body(body)
        litellm, router = await self._ready()
        target = await router.resolve(request["model"])
        kwargs = self._call_kwargs(request, target, headers or {})
        try:
            result = await litellm.anthropic.messages.acreate(**kwargs)
        except Exception as exc:
            raise from_exception(exc) from exc
        if kwargs["stream"]:
            if isinstance(result, dict):  # a provider that cannot stream answered at once
                raise from_exception(RuntimeError("the upstream answered a streaming request without a stream"))
            return await open_stream(result)
        if not isinstance(result, dict):
            raise from_exception(RuntimeError(f"unexpected LiteLLM result {type(result).__name__}"))
        return anthropic_message(result, request["model"])

    def _call_kwargs(self, request: dict[str, Any], target: Target, headers: Mapping[str, str]) -> dict[str, Any]:
        """LiteLLM keyword arguments: the cleaned body, then the target's params on top (they win)."""
        kwargs: dict[str, Any] = {**request, "timeout": self.timeout, "drop_params": True}
        kwargs.update(target.params)
        kwargs["max_tokens"] = min(request["max_tokens"], target.max_tokens)
        kwargs["stream"] = bool(request.get("stream", False))
        extra = upstream_headers(headers, target.provider)
        if extra:
            kwargs["extra_headers"] = extra
        if kwargs["max_tokens"] < request["max_tokens"]:
            log.debug("capped max_tokens %d → %d for %s", request["max_tokens"], kwargs["max_tokens"], request["model"])
        return kwargs

    async def count_tokens(self, body: Any) -> dict[str, int]:
        """Count a request's input tokens: ``{"input_tokens": n}``.

        Uses the provider's counting API where LiteLLM has one (with the config's
        key and base URL), else LiteLLM's local tokenizers (offline).

        Raises:
            ProxyError: bad body (400), unknown model (404), upstream failure.
        """
        request = clean_count_body(body)
        litellm, router = await self._ready()
        target = await router.resolve(request["model"])
        try:
            counted = await litellm.acount_tokens(
                model=target.params["model"],
                messages=request["messages"],
                tools=request.get("tools"),
                system=system_text(request.get("system")),
                api_key=target.params.get("api_key"),
                api_base=target.params.get("api_base"),
            )
        except Exception as exc:
            raise from_exception(exc) from exc
        total = getattr(counted, "total_tokens", None)
        if not isinstance(total, int):
            raise InvalidRequest("could not count the tokens of this request")
        return {"input_tokens": total}

    async def aclose(self) -> None:
        """Release LiteLLM's cached HTTP clients, if LiteLLM was loaded."""
        if self._litellm is None:
            return
        closer = getattr(self._litellm, "close_litellm_async_clients", None)
        if closer is not None:
            try:
                await closer()
            except Exception:
                log.debug("closing LiteLLM's HTTP clients failed", exc_info=True)
