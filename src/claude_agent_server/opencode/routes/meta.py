"""What OpenCode's clients read at start-up: config, providers, agents, paths, the project,
and empty answers for features this server does not have (commands, LSP, ...; ``/mcp`` is in
:mod:`.mcp`).

The TUI does not draw until ``/config/providers``, ``/provider``, ``/agent``,
``/config``, ``/path``, ``/project/current``, ``/project/{id}/directories`` and
``/experimental/console|capabilities`` have answered (``OPENCODE.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter

from ... import __version__
from .. import catalog
from ...proxy import ProxyConfig
from ...settings import Settings
from ..deps import DirectoryDep, ManagerDep, ProxyConfigDep, SettingsDep
from ..errors import ERRORS, OpenCodeRoute
from ..protocol import (
    Agent,
    Command,
    FormatterStatus,
    LspStatus,
    McpResource,
    NoWorkspaceStatus,
    ProviderAuthMethod,
    VcsInfo,
    Workspace,
    Config,
    ConfigProviders,
    ConsoleState,
    ExperimentalCapabilities,
    OpenCodeHealth,
    PathInfo,
    Project,
    ProjectDirectory,
    ProjectTime,
    Provider,
    ProviderList,
)
from ..views import project_id

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"], responses=ERRORS)

AGENTS = [Agent(name="build", description="Claude Code (this server's sessions)", mode="primary", native=True, hidden=False, permission=[], options={})]


def _providers(settings: Settings, proxy: ProxyConfig | None) -> tuple[list[Provider], dict[str, str]]:
    return catalog.providers(settings, proxy), catalog.default(settings)


@router.get("/global/health")
async def health() -> OpenCodeHealth:
    """``{healthy: true, version}`` (the v2 SDK's ``global.health``; the server's own state is ``GET /health``)."""
    return OpenCodeHealth(version=__version__)


@router.get("/config", response_model_exclude_none=True)
async def config(settings: SettingsDep, proxy: ProxyConfigDep) -> Config:
    """The configuration clients may read: the default model."""
    _, default = _providers(settings, proxy)
    provider, model = next(iter(default.items()))
    return Config(model=f"{provider}/{model}", share="disabled", autoupdate=False)


@router.get("/config/providers")
async def config_providers(settings: SettingsDep, proxy: ProxyConfigDep) -> ConfigProviders:
    providers, default = _providers(settings, proxy)
    return ConfigProviders(providers=providers, default=default)


@router.get("/provider")
async def provider(settings: SettingsDep, proxy: ProxyConfigDep) -> ProviderList:
    providers, default = _providers(settings, proxy)
    return ProviderList(all=providers, default=default, connected=[p.id for p in providers])


@router.get("/agent")
async def agent() -> list[Agent]:
    return AGENTS


@router.get("/path")
async def path(manager: ManagerDep, directory: DirectoryDep) -> PathInfo:
    """``{home, state, config, worktree, directory}``: the workspace, or the client's
    directory when it lies inside it."""
    workspace = manager.config.workspace
    chosen = workspace
    if directory:
        try:
            chosen = manager.resolve_cwd(directory)
        except Exception:  # a directory outside the workspace: the workspace is what this server has
            chosen = workspace
    home, space = str(Path.home()), str(workspace)
    return PathInfo(home=home, state=space, config=space, worktree=space, directory=str(chosen))


@router.get("/project/current")
async def project_current(settings: SettingsDep) -> Project:
    """The one project: the workspace."""
    return Project(id=project_id(settings), worktree=str(settings.workspace), vcs=None, time=ProjectTime(created=0), sandboxes=[])


@router.get("/project")
async def projects(settings: SettingsDep) -> list[Project]:
    return [await project_current(settings)]


@router.get("/project/{project}/directories", response_model_exclude_none=True)
async def project_directories(project: str) -> list[ProjectDirectory]:
    return []


@router.get("/experimental/console", response_model_exclude_none=True)
async def console() -> ConsoleState:
    """No console here: ``{}``."""
    return ConsoleState()


@router.get("/experimental/capabilities", response_model_exclude_none=True)
async def capabilities() -> ExperimentalCapabilities:
    """No experimental capabilities here: ``{}``."""
    return ExperimentalCapabilities()


def _empty(path: str, value: Any, model: Any) -> None:
    async def empty() -> Any:
        return value

    router.add_api_route(path, empty, methods=["GET"], name=f"empty {path}", response_model=model, response_model_exclude_none=True)


for _path, _value, _model in (
    ("/command", [], list[Command]),
    ("/lsp", [], list[LspStatus]),
    ("/formatter", [], list[FormatterStatus]),
    ("/vcs", {}, VcsInfo),
    ("/provider/auth", {}, dict[str, list[ProviderAuthMethod]]),
    ("/experimental/resource", {}, dict[str, McpResource]),
    ("/experimental/workspace", [], list[Workspace]),
    ("/experimental/workspace/status", {}, NoWorkspaceStatus),
):
    _empty(_path, _value, _model)
