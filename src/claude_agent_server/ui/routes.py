"""The dashboard's routes: the page, the redirect to it, its static files (the favicon among them), and
its API routes: ``POST /ui/sessions`` (a session created with origin ``dashboard``) and
``GET /ui/activity`` (turns and cost over time, for its charts)."""

from __future__ import annotations

from importlib.resources import files

from claude_agent_protocol import CreatedSession
from fastapi import APIRouter, Depends, FastAPI, status
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import Field

from claude_agent_protocol import Activity

from ..sessions import SessionRequest
from ..web.auth import require_api_key
from ..web.deps import ManagerDep
from ..web.responses import server_errors
from ..web.validation import Argument, Name, PermissionModeName, StrictBody
from ..web.views import created
from .activity import activity
from .security import SecureStaticFiles, secure

PACKAGE = "claude_agent_server.ui"
STATIC = "static"
PAGE = "index.html"

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/ui", tags=["dashboard"])


@pages.get("/")
async def root() -> RedirectResponse:
    """The server's root is the dashboard."""
    return RedirectResponse("/ui", status.HTTP_307_TEMPORARY_REDIRECT)


@pages.get("/ui")
async def page() -> FileResponse:
    """The dashboard's page (no secrets in it: it asks for the API key itself)."""
    response = FileResponse(str(files(PACKAGE) / STATIC / PAGE), media_type="text/html")
    return secure(response)  # type: ignore[return-value]


class DashboardSession(StrictBody):
    """``POST /ui/sessions``: what the dashboard's New session form sends (other fields: 422)."""

    cwd: Argument | None = Field(None, description="Working directory inside the workspace (default: the workspace).")
    model: Name | None = Field(None, description="Model name (default: the server's default model).")
    permission_mode: PermissionModeName | None = None


@api.post("/sessions", status_code=status.HTTP_201_CREATED, responses=server_errors(400, 409, 502, 503, body=True))
async def create_session(body: DashboardSession, manager: ManagerDep) -> CreatedSession:
    """Start a session as ``POST /sessions`` does, recorded with origin ``dashboard``:
    201 ``{session_id, created_at, status, model, cwd, permission_mode, origin}``; errors as
    ``POST /sessions`` (400 cwd outside the workspace, 422 bad body, 502, 503)."""
    session = await manager.create(
        SessionRequest(cwd=body.cwd or None, model=body.model or None, permission_mode=body.permission_mode, origin="dashboard")
    )
    return created(session)


@api.get("/activity", responses=server_errors(503))
async def get_activity(manager: ManagerDep) -> Activity:
    """Turns and cost per UTC day (the last 30) and per UTC hour (the last 48), every period
    listed (zeros included); 503 with ``Retry-After`` while the registry's database is unavailable."""
    return await activity(manager.registry)


def install(app: FastAPI) -> None:
    """Serve the dashboard on ``app``: ``GET /`` → ``/ui``, the page, ``/ui/static/*``
    (no auth: nothing secret), ``POST /ui/sessions`` and ``GET /ui/activity`` (behind the
    server's API key)."""
    app.include_router(pages)
    app.include_router(api, dependencies=[Depends(require_api_key)])
    app.mount("/ui/static", SecureStaticFiles(packages=[(PACKAGE, STATIC)]), name="ui-static")
