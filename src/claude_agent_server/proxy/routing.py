"""Model routing: a requested model name → the LiteLLM call it becomes (:class:`Target`).

Names in the config's ``model_list`` go through a ``litellm.Router``, which
picks one of the name's deployments (load balancing, ``rpm``/``tpm``,
``os.environ/NAME`` secrets). Other names, when allowed, are handed to LiteLLM
as they are (``provider/model``, or a bare name LiteLLM knows such as
``gpt-4o``), with the provider's usual environment variables, but only for
:data:`HOSTED_PROVIDERS`: a model name must never pick a local address
(``ollama/...`` would reach 127.0.0.1:11434).

Only the config decides the destination: a :class:`Target`'s ``params`` come
from the config file or, for a hosted provider, the model name; never from a
request body.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .config import ProxyConfig, configured_cap
from .errors import ModelNotFound, ProxyConfigError


HOSTED_PROVIDERS = frozenset({
    "anthropic", "openai", "gemini", "vertex_ai", "bedrock", "mistral", "groq", "deepseek", "cohere", "cohere_chat",
    "together_ai", "fireworks_ai", "xai", "perplexity", "openrouter", "deepinfra", "cerebras", "ai21",
})
"""LiteLLM providers an unlisted model name may use: each is reached at its public API,
with credentials from the server's environment. Providers whose default address is local
(``ollama``, ``lm_studio``, ``hosted_vllm``, ``llamafile``, ...) or set per deployment
(``azure``, ``openai_like``, ...) need an entry in the LiteLLM config."""


@dataclass(frozen=True)
class Target:
    """One upstream call's destination.

    Attributes:
        params: LiteLLM keyword arguments (``model`` in LiteLLM's ``provider/name`` form,
            ``api_base``, ``api_key``, ...) from the config; for configured models also
            ``litellm_router``, the Router itself, as LiteLLM's own proxy passes it (LiteLLM
            then resolves context-management summary models against the config, and does
            not retry a failing ``litellm.proxy`` import on every call).
        provider: LiteLLM's provider name (``anthropic``, ``openai``, ``hosted_vllm``, ...).
        max_tokens: Cap on the request's ``max_tokens`` (tokens).
    """

    params: dict[str, Any]
    provider: str
    max_tokens: int


class ModelRouter:
    """Resolves model names to :class:`Target` s. Build it after LiteLLM is imported.

    Args:
        litellm: The imported ``litellm`` module.
        config: The LiteLLM config, or None (only unlisted names then).
        default_max_tokens: Cap for models with no cap in the config or in LiteLLM's model table.
        allow_unlisted: Serve names missing from the config.

    Raises:
        ProxyConfigError: LiteLLM rejects the model_list or router_settings.
    """

    def __init__(self, litellm: ModuleType, config: ProxyConfig | None, *, default_max_tokens: int, allow_unlisted: bool) -> None:
        self._litellm = litellm
        self._default_max_tokens = default_max_tokens
        self._allow_unlisted = allow_unlisted
        self.names: list[str] = config.model_names if config else []
        self._router: Any = None
        self._deployments: dict[tuple[str, str | None, str | None], tuple[str, int]] = {}
        """(model, custom_llm_provider, api_base) of a configured deployment → (provider, known cap)."""
        if config and config.model_list:
            try:
                self._router = litellm.Router(model_list=config.model_list, **config.router_settings)
            except Exception as exc:
                raise ProxyConfigError(f"LiteLLM rejected the config: {exc}") from exc

    async def resolve(self, model: str) -> Target:
        """The destination for ``model``.

        Raises:
            ModelNotFound: the name is not configured, and unlisted names are off or
                LiteLLM cannot tell which provider it belongs to.
        """
        if model in self.names:
            deployment = await self._router.async_get_available_deployment(model=model, request_kwargs={})
            params = dict(deployment["litellm_params"])
            params.pop("max_tokens", None)
            known = (params["model"], params.get("custom_llm_provider"), params.get("api_base"))
            if known not in self._deployments:  # LiteLLM's model table and provider lookup: once per deployment
                self._deployments[known] = (self._provider(params), self._known_cap(params["model"]))
            provider, cap = self._deployments[known]
            return Target({**params, "litellm_router": self._router}, provider, configured_cap(deployment) or cap)
        configured = (
            f" Configured models: {', '.join(self.names)}."
            if self.names
            else " No LiteLLM config is loaded: start the server with --litellm-config FILE, a LiteLLM "
            "proxy config whose model_list names this model."
        )
        if not self._allow_unlisted:
            raise ModelNotFound(f"model {model!r} is not in the LiteLLM config.{configured}")
        if "://" in model:
            raise ModelNotFound(f"model {model!r}: a model name cannot contain a URL.{configured}")
        params = {"model": model}
        try:
            provider = self._provider(params)
        except Exception:
            raise ModelNotFound(
                f"model {model!r} is not in the LiteLLM config and LiteLLM does not know its provider; "
                f"name it provider/model (e.g. openai/gpt-4o).{configured}"
            ) from None
        if provider not in HOSTED_PROVIDERS:
            raise ModelNotFound(
                f"model {model!r} is not in the LiteLLM config, and unlisted models may only use hosted providers "
                f"({', '.join(sorted(HOSTED_PROVIDERS))}); add {provider!r} models to the config.{configured}"
            )
        return Target(params, provider, self._known_cap(model))

    def _provider(self, params: dict[str, Any]) -> str:
        return self._litellm.get_llm_provider(
            model=params["model"], custom_llm_provider=params.get("custom_llm_provider"), api_base=params.get("api_base")
        )[1]

    def _known_cap(self, model: str) -> int:
        """LiteLLM's ``max_output_tokens`` for a model it knows, else the default cap."""
        try:
            known = self._litellm.get_model_info(model).get("max_output_tokens")
        except Exception:
            known = None
        return known if isinstance(known, int) and known > 0 else self._default_max_tokens
