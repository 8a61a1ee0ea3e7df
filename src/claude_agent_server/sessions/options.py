"""What a new session asks for (:class:`SessionSpec`) and the SDK options built from it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from claude_agent_sdk import AgentDefinition, ClaudeAgentOptions, SessionStore

PERMISSION_MODES = ("default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto")
"""The modes the SDK knows (``claude_agent_sdk.types.PermissionMode``)."""
PERMISSION_POLICIES = ("deny",)
"""``SessionSpec.permission_policy`` values: ``deny`` — no human answers; requests that would prompt are denied."""
STREAM_BUFFER_BYTES = 64 * 1024 * 1024
"""The longest line of the CLI's stream-json output the SDK reads (its ``max_buffer_size``;
with the SDK's default, 1 MiB, a longer message ends the turn and stops the CLI).

What bounds a line: a reply (and the stream event and result that repeat it) by the
model's output cap, at most 128,000 tokens as Claude Code asks, a few MB; a prompt's
text by :data:`.prompt.MAX_PROMPT_CHARACTERS` (15 MB as JSON even if every character
were escaped), should a reply quote it; a tool result by the CLI's own cap of 10 MiB
characters (MCP results; Bash and Read output are cut far below). Images are scaled
down by the CLI. 64 MiB covers each with room, and is twice the largest request body
the server takes by default (``max_model_body_bytes``, 32 MiB). It is a bound, not an
allocation: only a line that long uses the memory."""
INLINE_PROMPT_BYTES = 64 * 1024
"""A system prompt longer than this (UTF-8) reaches the CLI in a file (``--system-prompt-file``,
``--append-system-prompt-file``), not as an argument: Linux refuses an argument over
128 KiB ("Argument list too long")."""
TRANSCRIPT_FLUSH: Final = "batched"
"""How the SDK hands a session's transcript lines to the store (``session_store_flush``).

"batched": the SDK collects a turn's lines and appends them once, when the turn's
``result`` arrives (sooner only past 500 lines or 1 MiB), and waits for that append
before it hands the ``result`` over. So a turn costs one append, which the registry's
:class:`~claude_agent_server.store.WriteBehindStore` only queues (a microsecond-scale
call; its one writer task writes it moments later, off the turn's path), and once a
turn has ended its lines are in the store for whatever reads next: the history, a wake
on another machine. "eager" would append after every line the CLI writes: several
database transactions per turn, competing with the turn for the same two cores, for a
store that follows a running turn line by line, which nothing here reads (the turn's
live events carry it). What "batched" gives up: the store's copy of a turn still
running; if the server dies mid-turn, that turn's lines (the turn ends with an error
anyway) are missing from the store, every earlier turn is there."""
NO_HUMAN_MESSAGE = (
    "No human is available to approve this tool call: this session denies every request that would need "
    "one (its permission policy); only the tools its allow-list or permission mode permits can run"
)


@dataclass(slots=True)
class SessionSpec:
    """What a session runs with: validated at creation; ``model`` and
    ``permission_mode`` follow later switches. Stored in the registry
    (:meth:`to_json`), so a woken session runs exactly as it was left."""

    session_id: str
    cwd: Path
    resume: bool = False
    """Start the CLI from the session's transcript (same id, same history)."""
    model: str | None = None
    permission_mode: str = "default"
    system_prompt: str | None = None
    append_system_prompt: str | None = None
    allowed_tools: list[str] = field(default_factory=list)
    disallowed_tools: list[str] = field(default_factory=list)
    max_turns: int | None = None
    enable_proxy: bool = False
    """Route the CLI's model calls through this server's ``/v1/messages``."""
    background_model: str | None = None
    tools: list[str] | None = None
    """The built-in tools the model is offered (SDK ``tools``): None, Claude Code's usual set; ``[]``, none."""
    setting_sources: list[str] | None = None
    """Settings files the CLI loads (SDK ``setting_sources``: ``user``, ``project``, ``local``); None, the SDK's default."""
    sandbox: dict[str, Any] | None = None
    """Claude Code's own Bash sandbox (SDK ``sandbox``: ``SandboxSettings``); None: the server's default."""
    permission_policy: str | None = None
    """Who answers permission requests: None, a human over HTTP; ``"deny"``, nobody (each is denied at once, with the reason)."""
    output_format: dict[str, Any] | None = None
    """Structured output (SDK ``output_format``: ``{"type": "json_schema", "schema": {...}}``): the
    model is offered a ``StructuredOutput`` tool and each result carries ``structured_output``."""
    agents: dict[str, dict[str, Any]] | None = None
    """Subagents by name (SDK ``AgentDefinition`` fields)."""
    mcp_servers: dict[str, dict[str, Any]] | None = None
    """MCP servers by name, as the SDK takes them (resolved against the allow-list when created)."""
    max_budget_usd: float | None = None
    """A turn stops once the session's CLI has spent this much (USD; result ``error_max_budget_usd``)."""
    effort: str | None = None
    thinking: dict[str, Any] | None = None
    add_dirs: list[str] | None = None
    """More directories the agent may use (absolute, inside the workspace)."""
    forked_from: dict[str, str] | None = None
    """``{session_id, message_id}`` of the session and message this one was forked from (None: not a fork)."""
    resume_at: str | None = None
    """Wake by loading the transcript only up to this message (a rewound conversation); cleared
    once a turn has continued from there."""
    queued: list[dict[str, str]] = field(default_factory=list)
    """Messages waiting for the running turn to end, oldest first: ``{queue_id, message, created_at}``
    (kept with the spec so the registry stores them; see :mod:`.queue`)."""

    def to_json(self) -> dict[str, Any]:
        """The stored form: every field but ``session_id`` and ``resume``; ``cwd`` as text."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("session_id", "resume")}
        listed = {"allowed_tools": list(self.allowed_tools), "disallowed_tools": list(self.disallowed_tools), "queued": list(self.queued)}
        return {**data, "cwd": str(self.cwd), **listed}

    @classmethod
    def from_json(cls, session_id: str, data: dict[str, Any], *, resume: bool = True) -> SessionSpec:
        """The spec a stored session wakes with (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)} - {"session_id", "resume", "cwd"}
        return cls(session_id, Path(data["cwd"]), resume, **{k: v for k, v in data.items() if k in known})


@dataclass(slots=True)
class ModelRoute:
    """Where a session's CLI sends model requests when the server redirects it.

    ``base_url`` is the demo model, this server's own ``/v1/messages`` proxy or its upstream
    pass-through; ``api_key`` is what the CLI sends as ``x-api-key``: the session's own model
    key, which opens the model endpoints only. ``env`` overrides the variables this sets
    (the pass-through to Bedrock or Vertex: their base URL, skip-auth, region, the key as
    ``ANTHROPIC_AUTH_TOKEN``).
    """

    base_url: str
    api_key: str
    background_model: str | None = None
    env: dict[str, str] = field(default_factory=dict)


SERVER_SETTINGS_PREFIX = "AGENT_SERVER_"


def session_env(route: ModelRoute | None, model: str | None) -> dict[str, str]:
    """Environment overrides for a session's CLI (and so for every tool it runs).

    Without a route the CLI inherits the server's environment, so
    ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``, ``CLAUDE_CODE_USE_BEDROCK``, ...
    configure it exactly as they configure Claude Code itself. The server's own
    settings (``AGENT_SERVER_*``, its API key among them) are blanked in every case.
    """
    env = {name: "" for name in os.environ if name.startswith(SERVER_SETTINGS_PREFIX)}
    if route is None:
        return env
    env |= {
        "ANTHROPIC_BASE_URL": route.base_url,
        "ANTHROPIC_API_KEY": route.api_key,
        "ANTHROPIC_AUTH_TOKEN": "",
        "CLAUDE_CODE_USE_BEDROCK": "0",
        "CLAUDE_CODE_USE_VERTEX": "0",
        "ANTHROPIC_BEDROCK_BASE_URL": "",  # the server's own (a gateway's URL may hold a credential)
        "ANTHROPIC_VERTEX_BASE_URL": "",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    background = route.background_model or model
    if background:
        env["ANTHROPIC_SMALL_FAST_MODEL"] = background
        env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] = background
    return env | route.env


class PromptFiles:
    """Private temporary files (mode 0600) carrying large system prompts to one CLI start.

    The CLI reads them as it starts (verified: removed once ``connect()`` has returned,
    the prompt still reaches the model on every later request), so :meth:`remove`
    follows the start.
    """

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def write(self, text: str) -> str:
        """A new file holding ``text``; its path."""
        fd, name = tempfile.mkstemp(prefix="claude-agent-prompt-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        self.paths.append(Path(name))
        return name

    def remove(self) -> None:
        """Delete every file written (idempotent)."""
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths.clear()


def _large(text: str) -> bool:
    return len(text.encode("utf-8", "surrogatepass")) > INLINE_PROMPT_BYTES


def build_options(
    spec: SessionSpec,
    *,
    can_use_tool: Callable[..., Any],
    stderr: Callable[[str], None],
    route: ModelRoute | None = None,
    cli_path: Path | None = None,
    files: PromptFiles | None = None,
    file_checkpointing: bool = False,
    mcp_servers: dict[str, Any] | None = None,
    transcripts: SessionStore | None = None,
    tool_sandbox: dict[str, Any] | None = None,
) -> ClaudeAgentOptions:
    """SDK options for one session: its id (new or resumed), cwd, model, tools and callbacks.

    Args:
        transcripts: Where the CLI's transcript is mirrored (flushed as
            :data:`TRANSCRIPT_FLUSH` says) and a resumed CLI's transcript is loaded
            from, whether or not this machine's disk has it; None: the local disk only.
        tool_sandbox: Claude Code's own Bash sandbox settings (the spec's or the server's default).
        files: Where a system prompt over :data:`INLINE_PROMPT_BYTES` goes (None: every
            prompt as an argument); the caller removes them once the CLI has started.
        file_checkpointing: Checkpoint the files the agent changes (``rewind_files``). The SDK
            refuses a transcript store with it (checkpoints live on the local disk only), so
            ``transcripts`` is then not passed: the transcript stays on this machine's disk and
            :class:`~.transcripts.Transcripts` copies it into the store whenever it is read.
        mcp_servers: The SDK's MCP server configs for the spec's servers (resolved by the caller).
    """
    system_prompt: Any = spec.system_prompt
    extra_args: dict[str, str | None] = {"replay-user-messages": None}  # echoes prompts with their uuids (steering, rewind)
    if spec.append_system_prompt:
        system_prompt = {"type": "preset", "preset": "claude_code", "append": spec.append_system_prompt}
        if spec.system_prompt:
            system_prompt = f"{spec.system_prompt}\n\n{spec.append_system_prompt}"
        elif files is not None and _large(spec.append_system_prompt):
            system_prompt = {"type": "preset", "preset": "claude_code"}
            extra_args["append-system-prompt-file"] = files.write(spec.append_system_prompt)
    if isinstance(system_prompt, str) and files is not None and _large(system_prompt):
        system_prompt = {"type": "file", "path": files.write(system_prompt)}
    return ClaudeAgentOptions(
        session_id=None if spec.resume else spec.session_id,
        resume=spec.session_id if spec.resume else None,
        resume_session_at=spec.resume_at if spec.resume else None,
        enable_file_checkpointing=file_checkpointing,
        cwd=str(spec.cwd),
        model=spec.model,
        permission_mode=spec.permission_mode,  # type: ignore[arg-type]
        system_prompt=system_prompt,
        allowed_tools=list(spec.allowed_tools),
        disallowed_tools=list(spec.disallowed_tools),
        tools=None if spec.tools is None else list(spec.tools),
        setting_sources=None if spec.setting_sources is None else list(spec.setting_sources),  # type: ignore[arg-type]
        max_turns=spec.max_turns,
        agents={name: AgentDefinition(**agent) for name, agent in spec.agents.items()} if spec.agents else None,
        mcp_servers=dict(mcp_servers or {}),
        max_budget_usd=spec.max_budget_usd,
        effort=spec.effort,  # type: ignore[arg-type]
        thinking=spec.thinking,  # type: ignore[arg-type]
        add_dirs=list(spec.add_dirs or []),
        can_use_tool=can_use_tool,
        include_partial_messages=True,
        env=session_env(route, spec.model),
        stderr=stderr,
        cli_path=str(cli_path) if cli_path else None,
        extra_args=extra_args,
        max_buffer_size=STREAM_BUFFER_BYTES,
        output_format=spec.output_format,
        session_store=None if file_checkpointing else transcripts,
        session_store_flush=TRANSCRIPT_FLUSH,
        sandbox=tool_sandbox,  # type: ignore[arg-type]
    )

