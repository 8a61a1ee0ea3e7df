"""``GET /me``: who the caller is (user, role, key id) and what the server offers every session,
so a client (the dashboard) shows only the controls the caller may use and says why one is off."""

from __future__ import annotations

from claude_agent_protocol import Me, ServerFeatures
from fastapi import APIRouter, Request

from ..sessions.tenancy import ADMIN
from ..web.auth import caller_of
from ..web.deps import StateDep
from ..web.responses import server_errors

router = APIRouter(tags=["users and keys"])


@router.get("/me", responses=server_errors(503))
async def me(request: Request, state: StateDep) -> Me:
    """The caller: ``{user, role, key_id, sees_all, may_change, features: {file_checkpointing}}``.
    Without sign-in (a server without keys) the caller is an anonymous admin (``user`` null)."""
    who = caller_of(request)
    features = ServerFeatures(file_checkpointing=state.settings.file_checkpointing)
    if who is None:
        return Me(role=ADMIN, sees_all=True, may_change=True, features=features)
    return Me(user=who.user, role=who.role, key_id=who.key_id, sees_all=who.sees_all, may_change=who.may_change,  # type: ignore[arg-type]
              features=features)
