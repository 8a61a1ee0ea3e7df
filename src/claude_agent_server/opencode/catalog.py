"""Providers and models as OpenCode lists them: what this server's sessions can really use.

* ``anthropic``: Claude Code's model aliases (and the server's default model);
* ``litellm``: the models of the LiteLLM config (sessions that use them run through
  this server's proxy, ``enable_proxy``);
* ``demo`` (only with ``--demo``): the offline scripted model, the default then.

A session's model maps back to ``(providerID, modelID)`` with :func:`model_of`;
a client's choice maps to the session's ``(model, enable_proxy)`` with :func:`choose`.
"""

from __future__ import annotations

from ..proxy.config import ProxyConfig
from ..settings import Settings
from .errors import BadRequest
from .protocol import CacheCost, Modalities, ModelApi, ModelCapabilities, ModelCost, ModelLimit, Provider, ProviderModel

CLAUDE_ALIASES = ("sonnet", "opus", "haiku")
DEMO = "demo"


def _model(provider: str, model: str, name: str) -> ProviderModel:
    """An OpenCode ``Model`` (1.x): ids, capabilities, cost (USD per million tokens; unknown: 0) and limits."""
    image = provider != DEMO
    return ProviderModel(
        id=model,
        providerID=provider,
        name=name,
        api=ModelApi(id=model, url="", npm="@ai-sdk/anthropic"),
        capabilities=ModelCapabilities(
            temperature=True,
            reasoning=provider == "anthropic",
            attachment=provider != DEMO,
            toolcall=True,
            input=Modalities(text=True, audio=False, image=image, video=False, pdf=False),
            output=Modalities(text=True, audio=False, image=False, video=False, pdf=False),
            interleaved=False,
        ),
        cost=ModelCost(input=0, output=0, cache=CacheCost(read=0, write=0)),
        limit=ModelLimit(context=200_000, output=32_000),
        status="active",
        options={},
        headers={},
        release_date="",
        variants={},
    )


def _provider(provider: str, name: str, models: list[tuple[str, str]]) -> Provider:
    return Provider(
        id=provider,
        name=name,
        source="config",
        env=[],
        options={},
        models={model: _model(provider, model, label) for model, label in models},
    )


def providers(settings: Settings, proxy: ProxyConfig | None) -> list[Provider]:
    """Every provider with its models (OpenCode ``Provider`` objects)."""
    claude = [(alias, f"Claude {alias.capitalize()}") for alias in CLAUDE_ALIASES]
    if settings.default_model and settings.default_model not in CLAUDE_ALIASES:
        claude.insert(0, (settings.default_model, settings.default_model))
    found = [_provider("anthropic", "Anthropic (Claude Code)", claude)]
    if proxy is not None and proxy.model_names:
        found.append(_provider("litellm", "LiteLLM (this server's proxy)", [(name, name) for name in proxy.model_names]))
    if settings.demo:
        found.insert(0, _provider(DEMO, "Demo (offline scripted model)", [(DEMO, "Demo model")]))
    return found


def default(settings: Settings) -> dict[str, str]:
    """``{providerID: modelID}`` of the default model."""
    if settings.demo and settings.default_model is None:
        return {DEMO: DEMO}
    return {"anthropic": settings.default_model or CLAUDE_ALIASES[0]}


def model_of(settings: Settings, model: str | None, enable_proxy: bool) -> tuple[str, str]:
    """The ``(providerID, modelID)`` a session with ``model`` runs (None: the default)."""
    if enable_proxy and model:
        return "litellm", model
    if model is None:
        return next(iter(default(settings).items()))
    return "anthropic", model


def choose(settings: Settings, proxy: ProxyConfig | None, provider: str, model: str) -> tuple[str | None, bool]:
    """What a session must run for a client's ``(providerID, modelID)``: ``(model, enable_proxy)``.

    Raises:
        BadRequest: No provider here serves that model.
    """
    if provider == DEMO and settings.demo and model == DEMO:
        return None, False
    if provider == "anthropic" and model:
        return model, False
    if provider == "litellm" and proxy is not None and model in proxy.model_names:
        return model, True
    raise BadRequest(f"model {provider}/{model} is not served here (see GET /config/providers)")
