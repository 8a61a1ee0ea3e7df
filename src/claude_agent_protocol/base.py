"""The base of every wire model, and the small types they share."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

PermissionModeName = Literal["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"]
"""The permission modes Claude Code knows (the SDK's ``PermissionMode``)."""
SessionStatusName = Literal["connecting", "waking", "connected", "running", "waiting_permission", "hibernated", "closed"]
"""What a session is doing: starting its CLI (``connecting``; ``waking`` from hibernation), idle
(``connected``), in a turn (``running``; ``waiting_permission`` while a request waits for a human),
without a process (``hibernated``: the next message wakes it), or gone (``closed``)."""
SessionStateName = Literal["live", "hibernated", "closed"]
"""The registry's state of a session: with a CLI process, without one, or closed for good."""
Origin = Literal["rest", "agentcore", "opencode", "gateway", "dashboard"]
"""The API that created a session."""


class WireModel(BaseModel):
    """A JSON object of the API. Fields a newer server adds are ignored by an older client."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


SendMode = Literal["reject", "queue", "steer"]
"""What ``POST /sessions/{id}/messages`` does while a turn runs: ``reject`` (409), ``queue`` (run
after it, in order), ``steer`` (delivered into it as new user input; run next if it ends first)."""
