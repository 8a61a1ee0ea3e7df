"""What a caller asks for when it creates a session (:class:`SessionRequest`).

Adapters (REST, AgentCore, OpenCode, the gateway, the dashboard) build a request;
the manager places it: on a warm client when one can serve it, else on a new CLI.
The request validates itself, builds the :class:`~.options.SessionSpec` a session
runs with, and tells whether a warm client can serve it by comparing every spec
field, so a field added to the spec is never forgotten by the warm pool.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from ..store import SessionRecord
from .errors import InvalidSessionRequest
from .structured import output_format
from .options import PERMISSION_MODES, PERMISSION_POLICIES, SessionSpec
from .workspace import parse_session_id

SWITCHABLE = frozenset({"model", "permission_mode"})
"""Spec fields a connected CLI can switch (``set_model``, ``set_permission_mode``): a warm
client started with other values can still serve a request."""
TITLE_LENGTH = 1000
"""Characters of a title kept (whitespace runs become one space)."""


def normal_title(title: str) -> str | None:
    """``title`` with whitespace runs collapsed, cut to :data:`TITLE_LENGTH` characters (None: empty)."""
    return " ".join(title.split())[:TITLE_LENGTH] or None


class SessionRequest(BaseModel):
    """A request for a new session (or one resumed from its transcript).

    Every field is optional; unset means the server's default. Invalid values raise
    :class:`~.errors.InvalidSessionRequest` when the request is built (a wrong type, a
    ``pydantic.ValidationError``: a programming error of the adapter).

    Raises:
        InvalidSessionRequest: An id is not a UUID, both ids are given, the permission
            mode or policy is unknown, or ``scratch_cwd`` comes with a ``cwd``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    resume_session_id: str | None = None
    """Resume this transcript (same id, same history); also revives a closed session."""
    session_id: str | None = None
    """Use this id for a new session (default: a fresh UUID)."""
    cwd: str | None = None
    """Working directory inside the workspace (relative to it or absolute; default: the
    workspace; a resumed session: its transcript's)."""
    model: str | None = None
    permission_mode: str | None = None
    """One of :data:`~.options.PERMISSION_MODES` (default: the server's)."""
    system_prompt: str | None = None
    append_system_prompt: str | None = None
    allowed_tools: tuple[str, ...] = ()
    disallowed_tools: tuple[str, ...] = ()
    max_turns: int | None = None
    enable_proxy: bool = False
    """Route the CLI's model calls through this server's ``/v1/messages``."""
    background_model: str | None = None
    tools: tuple[str, ...] | None = None
    """The built-in tools offered (None: Claude Code's usual set; empty: none)."""
    setting_sources: tuple[str, ...] | None = None
    sandbox: dict[str, Any] | None = None
    """Claude Code's own Bash sandbox settings (the SDK's ``SandboxSettings``); None: the server's default."""
    permission_policy: str | None = None
    """None: a human answers permission requests; ``deny``: each is denied at once."""
    scratch_cwd: bool = False
    """Run in the session's own empty directory under the server's scratch root instead
    of ``cwd``; for the server's own callers (the gateway), never a client's choice."""
    agentcore_session_id: str | None = None
    """The AgentCore runtime-session header the session serves."""
    origin: str = "rest"
    """The API creating it (``rest``, ``agentcore``, ``opencode``, ``gateway``, ``dashboard``)."""
    title: str | None = None
    """The session's title (default: its first message)."""
    output_format: dict[str, Any] | None = None
    """Structured output: a JSON schema, or the SDK's ``{"type": "json_schema", "schema": ...}``
    (stored in the latter form; see :mod:`.structured`)."""
    agents: dict[str, dict[str, Any]] | None = None
    """Subagents by name (the SDK's ``AgentDefinition`` fields)."""
    mcp_servers: dict[str, dict[str, Any]] | None = None
    """MCP servers by name: ``{command, args}`` (stdio, the command on ``mcp_allow``) or ``{config: NAME}``
    (a server of the ``--mcp-config`` file); :func:`~.capabilities.resolve` turns them into SDK configs."""
    max_budget_usd: float | None = None
    effort: str | None = None
    thinking: dict[str, Any] | None = None
    add_dirs: tuple[str, ...] | None = None
    """More directories the agent may use (inside the workspace; resolved when placed)."""
    forked_from: dict[str, str] | None = None
    """``{session_id, message_id}`` when the session is a fork (set by the fork, never a client's choice)."""

    @field_validator("allowed_tools", "disallowed_tools", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return () if value is None else value

    @field_validator("sandbox")
    @classmethod
    def _set_only(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else _without_nulls(value)

    @field_validator("resume_session_id", "session_id")
    @classmethod
    def _canonical_id(cls, value: str | None) -> str | None:
        return None if value is None else parse_session_id(value)

    @field_validator("permission_mode", "permission_policy")
    @classmethod
    def _known(cls, value: str | None, info: ValidationInfo) -> str | None:
        known = PERMISSION_MODES if info.field_name == "permission_mode" else PERMISSION_POLICIES
        if value is not None and value not in known:
            what = str(info.field_name).replace("_", " ")
            raise InvalidSessionRequest(f"unknown {what} {value!r}; one of {', '.join(known)}")
        return value

    @field_validator("output_format")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            return output_format(value)
        except ValueError as exc:
            raise InvalidSessionRequest(f"output_format: {exc}") from None

    @model_validator(mode="after")
    def _consistent(self) -> SessionRequest:
        if self.resume_session_id is not None and self.session_id is not None:
            raise InvalidSessionRequest("give resume_session_id or session_id, not both")
        if self.scratch_cwd and self.cwd:
            raise InvalidSessionRequest("a session in a scratch directory takes no cwd")
        return self

    @property
    def resumes(self) -> bool:
        """True when the session starts from an existing transcript."""
        return self.resume_session_id is not None

    @property
    def fresh(self) -> bool:
        """True for a new session in a directory the caller names (no id, no transcript,
        no scratch directory): the only kind a warm client may serve."""
        return self.resume_session_id is None and self.session_id is None and not self.scratch_cwd

    def chosen_id(self) -> str | None:
        """The id the caller chose (resumed or new, canonical), or None: a fresh UUID."""
        return self.resume_session_id or self.session_id

    def spec(self, session_id: str, cwd: Path, *, default_model: str | None, default_permission_mode: str) -> SessionSpec:
        """The spec of the session placed with ``session_id`` in ``cwd`` (resolved by the
        caller: inside the workspace, the transcript's, or the scratch directory).

        Every spec field with a request field of the same name is copied from it; unset
        ``model`` and ``permission_mode`` take the defaults given.
        """
        copied = {name: _plain(getattr(self, name)) for name in _COPIED}
        return SessionSpec(
            session_id,
            cwd,
            resume=self.resumes,
            model=self.model or default_model,
            permission_mode=self.permission_mode or default_permission_mode,
            **copied,
        )

    def can_use_warm(self, warm: SessionSpec, cwd: Path) -> bool:
        """Whether a warm client started with ``warm`` can serve this request placed in
        ``cwd``: the request is :attr:`fresh` and the spec it asks for equals ``warm`` in
        every field but the id and the :data:`SWITCHABLE` ones (the manager switches those
        on the warm client)."""
        if not self.fresh:
            return False
        wanted = self.spec(warm.session_id, cwd, default_model=warm.model, default_permission_mode=warm.permission_mode)
        return not spec_differences(wanted, warm)

    def new_record(self, spec: SessionSpec) -> SessionRecord:
        """The registry record of a session this request creates (not one it revives); the
        manager sets its title when it registers the session."""
        return SessionRecord(spec.session_id, spec.to_json(), agentcore_session_id=self.agentcore_session_id, origin=self.origin)


def spec_differences(a: SessionSpec, b: SessionSpec) -> list[str]:
    """The names of the spec fields in which ``a`` and ``b`` differ, the id and the
    :data:`SWITCHABLE` ones aside."""
    return [
        f.name for f in fields(SessionSpec)
        if f.name != "session_id" and f.name not in SWITCHABLE and getattr(a, f.name) != getattr(b, f.name)
    ]


def _without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    return {k: _without_nulls(v) if isinstance(v, dict) else v for k, v in value.items() if v is not None}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


_PLACED = frozenset({"session_id", "cwd", "resume", "model", "permission_mode"})
"""Spec fields the request does not copy by name (the placement or a default decides them)."""
_COPIED = tuple(f.name for f in fields(SessionSpec) if f.name not in _PLACED and f.name in SessionRequest.model_fields)


def request_like(spec: SessionSpec, **fields_: Any) -> SessionRequest:
    """A request for a session with ``spec``'s settings (cwd, model, mode, prompts, tools, ...), and ``fields_``."""
    given = {"cwd": str(spec.cwd), "model": spec.model, "permission_mode": spec.permission_mode}
    given |= {name: getattr(spec, name) for name in _COPIED} | fields_
    return SessionRequest(**given)
