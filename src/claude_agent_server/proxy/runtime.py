"""Importing LiteLLM: lazily (it takes 2-4 s and ~200 MB), and never reaching for the network.

``LITELLM_LOCAL_MODEL_COST_MAP=True`` must be in the environment *before* the
first ``import litellm``; otherwise the import blocks for up to 5 s trying to
download the model cost map and then warns from a background thread.
"""

from __future__ import annotations

import os
from types import ModuleType


def import_litellm() -> ModuleType:
    """Return the ``litellm`` module, importing and configuring it on first use (blocking; seconds)."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on stdout
    litellm.telemetry = False
    return litellm
