"""The LiteLLM config file: LiteLLM's own proxy-config YAML, read without importing LiteLLM.

The smallest useful file::

    model_list:
      - model_name: my-model
        litellm_params:
          model: hosted_vllm/Qwen2.5-Coder-32B
          api_base: http://127.0.0.1:8001/v1

``model_list`` entries are handed to a ``litellm.Router`` as they are (so
``os.environ/NAME`` values, several deployments per name, ``rpm``/``tpm`` work as
in LiteLLM). ``router_settings`` is passed to the Router too. A per-model cap on
``max_tokens`` comes from ``litellm_params.max_tokens`` or
``model_info.max_output_tokens``. Other top-level sections (``litellm_settings``,
``general_settings``, ...) belong to LiteLLM's own proxy server and are ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ProxyConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProxyConfig:
    """A validated LiteLLM config.

    Attributes:
        model_list: LiteLLM Router deployments (``model_name`` + ``litellm_params`` [+ ``model_info``]).
        router_settings: Extra keyword arguments for ``litellm.Router``.
    """

    model_list: list[dict[str, Any]] = field(default_factory=list)
    router_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def model_names(self) -> list[str]:
        """The public model names, in file order, without repeats."""
        return list(dict.fromkeys(entry["model_name"] for entry in self.model_list))


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse_config(data: Any, source: str = "LiteLLM config") -> ProxyConfig:
    """Validate a loaded YAML document.

    Raises:
        ProxyConfigError: not a mapping, no ``model_list`` list, an entry without a
            string ``model_name`` or without ``litellm_params.model``, or a cap that
            is not a positive integer.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProxyConfigError(f"{source}: expected a mapping with a model_list, got {type(data).__name__}")
    models = data.get("model_list", [])
    if not isinstance(models, list):
        raise ProxyConfigError(f"{source}: model_list must be a list")
    for index, entry in enumerate(models):
        where = f"{source}: model_list[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("model_name"), str) or not entry["model_name"]:
            raise ProxyConfigError(f"{where} needs a model_name string")
        params = entry.get("litellm_params")
        if not isinstance(params, dict) or not isinstance(params.get("model"), str) or not params["model"]:
            raise ProxyConfigError(f"{where} ({entry['model_name']}) needs litellm_params.model, e.g. openai/gpt-4o")
        info = entry.get("model_info", {})
        if not isinstance(info, dict):
            raise ProxyConfigError(f"{where} ({entry['model_name']}): model_info must be a mapping")
        for name, value in (("litellm_params.max_tokens", params.get("max_tokens")), ("model_info.max_output_tokens", info.get("max_output_tokens"))):
            if value is not None and not _positive_int(value):
                raise ProxyConfigError(f"{where} ({entry['model_name']}): {name} must be a positive integer")
    router_settings = data.get("router_settings", {}) or {}
    if not isinstance(router_settings, dict):
        raise ProxyConfigError(f"{source}: router_settings must be a mapping")
    ignored = sorted(set(data) - {"model_list", "router_settings"})
    if ignored:
        log.info("%s: ignoring sections used only by LiteLLM's own proxy server: %s", source, ", ".join(ignored))
    return ProxyConfig(model_list=[dict(entry) for entry in models], router_settings=dict(router_settings))


def load_config(path: Path) -> ProxyConfig:
    """Read and validate the YAML file at ``path``.

    Raises:
        ProxyConfigError: the file cannot be read, is not YAML, or fails :func:`parse_config`.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise ProxyConfigError(f"cannot read LiteLLM config {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProxyConfigError(f"LiteLLM config {path} is not valid YAML: {exc}") from exc
    return parse_config(data, str(path))


def configured_cap(entry: dict[str, Any]) -> int | None:
    """The ``max_tokens`` cap a model_list entry sets, if any (``litellm_params.max_tokens`` first)."""
    cap = entry.get("litellm_params", {}).get("max_tokens") or (entry.get("model_info") or {}).get("max_output_tokens")
    return cap if _positive_int(cap) else None
