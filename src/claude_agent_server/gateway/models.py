"""The models the gateway serves, and the session profile a model name selects.

Served: the default model (``settings.default_model``, or ``default``: Claude
Code's own default), the aliases ``sonnet``, ``opus`` and ``haiku``, and, when a
LiteLLM config is loaded, its model names (those sessions run through this
server's ``/v1/messages`` proxy). In ``--demo`` any name is served (the demo model
answers whatever it is called).

A name may end in ``+chat`` or ``+agent`` to pick the session profile for that
call; without one the server's ``gateway_profile`` applies:

* **chat**: no tools, no settings files, an empty working directory of the
  session's own; the system message is the whole system prompt.
* **agent**: Claude Code's tools in the workspace, the ``gateway_allowed_tools``
  allow-list and ``gateway_permission_mode``; the system message is appended to
  Claude Code's own. No human answers: a request that would need one is denied
  with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from ..settings import Settings
from .errors import model_not_found

Profile = Literal["chat", "agent"]
ALIASES = ("sonnet", "opus", "haiku")
DEFAULT_ID = "default"
SUFFIXES: dict[str, Profile] = {"+chat": "chat", "+agent": "agent"}
OWNER = "claude-agent-server"
_STARTED = int(time.time())


def card(model_id: str) -> dict[str, Any]:
    """A model's ``{id, object: "model", created, owned_by}`` (``created``: when the server started, Unix seconds)."""
    return {"id": model_id, "object": "model", "created": _STARTED, "owned_by": OWNER}


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """What a model name means for a session.

    Attributes:
        name: The name without its profile suffix (part of the history's scope).
        session_model: The model the session runs (None: Claude Code's default).
        profile: ``chat`` or ``agent``.
        enable_proxy: Route the session's model calls through the LiteLLM proxy.
    """

    name: str
    session_model: str | None
    profile: Profile
    enable_proxy: bool = False

    def create_kwargs(self, settings: Settings, system: str | None) -> dict[str, Any]:
        """``SessionManager.create`` arguments for a new session of this choice."""
        common: dict[str, Any] = {
            "model": self.session_model,
            "enable_proxy": self.enable_proxy,
            "background_model": self.session_model if self.enable_proxy else None,
            "permission_policy": "deny",
            "origin": "gateway",
        }
        if self.profile == "chat":
            return {**common, "tools": [], "setting_sources": [], "scratch_cwd": True, "system_prompt": system}
        return {
            **common,
            "allowed_tools": list(settings.gateway_allowed_tools),
            "permission_mode": settings.gateway_permission_mode,
            "append_system_prompt": system,
        }


class Catalog:
    """The served model names of one server.

    Args:
        settings: The default model, the default profile, ``--demo``.
        proxy_models: The LiteLLM config's model names (empty: no proxy configured).
    """

    def __init__(self, settings: Settings, proxy_models: list[str]) -> None:
        self._settings = settings
        self._default = settings.default_model or DEFAULT_ID
        self._proxied = set(proxy_models)
        self._names = list(dict.fromkeys([self._default, *ALIASES, *proxy_models]))

    def ids(self) -> list[str]:
        """Every listed id: each name, and each name with the other profile's suffix."""
        other = "+agent" if self._settings.gateway_profile == "chat" else "+chat"
        return [*self._names, *(name + other for name in self._names)]

    def cards(self) -> list[dict[str, Any]]:
        return [card(name) for name in self.ids()]

    def resolve(self, requested: str) -> ModelChoice:
        """The choice a (possibly suffixed) model name makes.

        Raises:
            GatewayError: 404 ``model_not_found`` for a name this server does not serve.
        """
        name, profile = requested, self._settings.gateway_profile
        for suffix, named in SUFFIXES.items():
            if requested.endswith(suffix) and len(requested) > len(suffix):
                name, profile = requested[: -len(suffix)], named
        if name not in self._names and not self._settings.demo:
            raise model_not_found(requested)
        session_model = None if name == DEFAULT_ID else name
        return ModelChoice(name, session_model, profile, enable_proxy=name in self._proxied)
