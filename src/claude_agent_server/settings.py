"""Server settings: environment variables with the ``AGENT_SERVER_`` prefix and CLI flags.

Every field is an environment variable (``AGENT_SERVER_PORT=9000``) and a
command-line flag (``--port 9000``); flags win over the environment. The default
model also reads Claude Code's own ``ANTHROPIC_MODEL``.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any, Literal

from claude_agent_protocol.requests import ToolSandbox
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"]
"""The permission modes Claude Code knows (SDK ``PermissionMode``)."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "claude-agent-server"


class Settings(BaseSettings):
    """Configuration of one server process."""

    model_config = SettingsConfigDict(env_prefix="AGENT_SERVER_", populate_by_name=True, extra="ignore")
    # The command line (flags and --help) is built from these fields by usage.py.

    host: str = Field("127.0.0.1", description="Address to bind. Non-loopback needs authentication: an API key, a user key or JWT settings.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port to bind (0: any free port).")
    api_key: SecretStr | None = Field(
        None,
        description="Key every route but /health, /ping, the docs and the dashboard's page requires "
        "(Authorization: Bearer KEY or x-api-key: KEY). The server re-executes itself at start so the key "
        "is in neither its environment nor its command line; --api-key-file keeps it out of ps entirely.",
    )
    api_key_file: Path | None = Field(
        None,
        description="Read the API key from this file (read once at start; surrounding whitespace ignored; "
        "keep it 0600 and outside the workspace). Also a pipe: --api-key-file <(pass show agent-key).",
    )
    workspace: Path = Field(
        default_factory=Path.cwd,
        description="Root directory; every session's cwd must resolve inside it.",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Directory for the server's own state: the default SQLite registry and the CLI "
        "launcher. The registry holds sessions, their events and their transcripts.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL of the session registry, e.g. postgresql+asyncpg://host/db "
        "(default: a SQLite file registry.db in the data dir).",
    )
    demo: bool = Field(False, description="Serve the offline scripted demo model and use it.")
    default_model: str | None = Field(
        None,
        validation_alias=AliasChoices("default_model", "AGENT_SERVER_DEFAULT_MODEL", "ANTHROPIC_MODEL"),
        description="Model for new sessions that name none (also read from ANTHROPIC_MODEL).",
    )
    default_permission_mode: PermissionMode = Field(
        "default", description="Permission mode for new sessions that name none."
    )
    permission_timeout: float = Field(
        300.0, ge=0, description="Seconds a permission request waits before it is denied; 0: until answered."
    )
    parked_permission_timeout: float = Field(
        0.0,
        ge=0,
        description="Seconds a parked permission request (its session's process stopped: a server stop or a hibernation) "
        "waits for an answer before it is denied; 0: until answered.",
    )
    max_live_sessions: int = Field(
        32,
        ge=1,
        validation_alias=AliasChoices(
            "max_live_sessions", "max_sessions", "AGENT_SERVER_MAX_LIVE_SESSIONS", "AGENT_SERVER_MAX_SESSIONS"
        ),
        description="Claude Code processes at most (each holds ~200 MB); at the cap the least recently used "
        "idle session is hibernated to make room (--max-sessions is an alias).",
    )
    idle_timeout: float = Field(
        600.0,
        ge=0,
        description="Seconds a session may sit idle (no turn, no pending permission) before it is hibernated "
        "(its CLI stops; the next message wakes it). 0: never.",
    )
    warm_sessions: int = Field(
        1, ge=0, description="Pre-connected Claude Code clients kept for the default spec, so POST /sessions "
        "answers at once; they fill free live slots only and go first when the cap needs room. 0: none."
    )
    isolation: Literal["bwrap", "none"] | None = Field(
        None,
        description="Run each session's Claude Code CLI in its own bubblewrap sandbox (bwrap) or not (none). "
        "Default: bwrap when it works on this machine.",
    )
    sandbox_settings: dict[str, Any] | None = Field(
        None,
        description="Claude Code's own Bash sandbox for sessions that name none (JSON, the SDK's SandboxSettings, "
        'e.g. {"enabled": true, "enableWeakerNestedSandbox": true, "network": {"allowedDomains": []}}).',
    )
    cli_nice: int = Field(
        10, ge=0, le=19, description="Scheduling niceness of the Claude Code processes, so the server stays "
        "responsive while they use the CPU (0: the server's own priority)."
    )
    mcp_allow: list[str] = Field(
        default_factory=list, description="Commands a session's stdio MCP server may run (JSON list, e.g. "
        "'[\"uvx\", \"/opt/mcp/files\"]'); a request naming another command is 400."
    )
    mcp_config: Path | None = Field(
        None, description="JSON file of MCP servers sessions may name ({\"mcpServers\": {name: config}}, any "
        "transport); a request names one as {\"config\": NAME}."
    )
    webhook_url: list[str] = Field(
        default_factory=list, description="POST a JSON notification here for turn_completed, turn_failed, "
        "permission_requested and session_error (repeatable; retried with backoff, never blocking a turn)."
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Sign webhooks per the Standard Webhooks specification with this secret (whsec_<base64>, "
        "or any text: its bytes are the key); without it deliveries are unsigned."
    )
    file_checkpointing: bool = Field(
        False, description="Checkpoint the files each session's agent changes, so POST /sessions/{id}/rewind can "
        "restore them. The SDK keeps checkpoints on the local disk and refuses them with a transcript store, so CLIs "
        "then keep their transcripts on this node's disk (copied into the registry when read): for a single node."
    )
    metrics_public: bool = Field(False, description="Serve GET /metrics without the API key.")
    workspace_per_user: bool = Field(
        False, description="Confine each member's sessions to <workspace>/<user>/ (made on first use); a cwd "
        "outside it is 400."
    )
    jwt_jwks_url: str | None = Field(
        None, description="Accept bearer JWTs signed by a key of this JWKS (single sign-on); users are created on "
        "first sight."
    )
    jwt_issuer: str | None = Field(None, description="The iss a JWT must carry (with --jwt-jwks-url).")
    jwt_audience: str | None = Field(None, description="The aud a JWT must carry (with --jwt-jwks-url).")
    jwt_user_claim: str = Field("sub", description="The JWT claim naming the user (e.g. sub, email).")
    jwt_role_claim: str | None = Field(
        None, description="The JWT claim holding the role (admin, member or viewer); without it, or with "
        "another value, --jwt-default-role."
    )
    jwt_default_role: Literal["admin", "member", "viewer"] = Field(
        "member", description="Role of a JWT user whose token names none."
    )
    shutdown_grace: float = Field(
        20.0, ge=0, description="Seconds running turns may take to finish on SIGTERM before they are interrupted."
    )
    event_buffer_size: int = Field(
        2000, ge=10, description="Events kept in memory per live session (older ones replay from the registry)."
    )
    event_buffer_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Bytes of events kept in memory per live session, at most."
    )
    registry_buffer_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Bytes of events and records waiting to be written to the registry "
        "kept in memory; beyond (and whenever the database cannot be reached) they go to a spill file in the "
        "data dir, written to the database when it answers again."
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Bytes a request body may have (413 beyond); the model routes allow "
        "max_model_body_bytes."
    )
    max_model_body_bytes: int = Field(
        32 * 1024 * 1024, ge=1024, description="Bytes a /v1/messages, /v1/chat/completions or /demo request body may have (images)."
    )
    heartbeat_interval: float = Field(15.0, gt=0, description="Seconds between SSE heartbeat comments.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (none by default)."
    )
    allowed_hosts: list[str] | None = Field(
        None,
        description="Host names (JSON list; port-agnostic; *.example.com for subdomains, * for any) served besides "
        "loopback names and the bound address; other Host headers are 400 (DNS rebinding). With an API key the "
        "Host is checked only when this is given.",
    )
    header_timeout: float = Field(
        10.0, gt=0, description="Seconds a connection may take to send a request's headers (from the first byte, "
        "or from connecting); then it is closed (408)."
    )
    body_timeout: float = Field(
        60.0, gt=0, description="Seconds a request body may pause between two pieces before the connection is closed."
    )
    litellm_config: Path | None = Field(
        None, description="LiteLLM proxy-config YAML (model_list) for /v1/messages."
    )
    proxy_max_tokens: int = Field(
        8192,
        ge=1,
        description="Cap on max_tokens for proxied models that have no cap of their own in the LiteLLM config "
        "or LiteLLM's model table (Claude Code asks for up to 128000).",
    )
    proxy_timeout: float = Field(600.0, gt=0, description="Seconds an upstream model call through /v1/messages may take.")
    proxy_allow_unlisted_models: bool = Field(
        False,
        description="Let /v1/messages also serve models missing from the LiteLLM config as provider/model, "
        "for hosted providers only (openai, anthropic, gemini, bedrock, ...; with their usual environment "
        "variables); off: only the configured models.",
    )
    cli_path: Path | None = Field(
        None, description="Claude Code CLI to run (default: the one bundled with the SDK)."
    )
    gateway_profile: Literal["chat", "agent"] = Field(
        "chat",
        description="Profile of /v1/chat/completions sessions whose model name has no +chat/+agent suffix: chat "
        "(no tools, no settings files, an empty working directory of its own) or agent (tools in the workspace).",
    )
    gateway_allowed_tools: list[str] = Field(
        default_factory=list,
        description="Tools agent-profile gateway sessions may use without asking (e.g. Read, Grep); any other "
        "request that would need a human is denied.",
    )
    gateway_permission_mode: PermissionMode = Field(
        "default", description="Permission mode of agent-profile gateway sessions."
    )
    node_id: str | None = Field(
        None, max_length=255, pattern=r"^[A-Za-z0-9._:@-]+$",
        description="This server's id in a cluster of servers sharing one PostgreSQL registry (default: "
        "hostname:port).",
    )
    advertise_url: str | None = Field(
        None, pattern=r"^https?://[^/?#]+$",
        description="Base URL other nodes forward requests to this one at, e.g. http://10.0.0.5:8000 (default: "
        "from the bound host and port).",
    )
    node_heartbeat: float = Field(
        2.0, gt=0, description="Seconds between this node's heartbeats in the registry (each renews its sessions' leases)."
    )
    node_lease: float = Field(
        10.0, gt=0, description="Seconds without a heartbeat after which a node counts as dead and other nodes take "
        "over its sessions (hibernated; a running turn ends with reason node_lost)."
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="Server log level."
    )

    @field_validator("api_key", mode="after")
    @classmethod
    def _empty_key_is_no_key(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def _key_from_file(self) -> Settings:
        if self.api_key_file is None:
            return self
        if self.api_key is not None:
            raise ValueError("set the API key once: --api-key-file or --api-key / AGENT_SERVER_API_KEY, not both")
        try:
            key = self.api_key_file.expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the API key file {self.api_key_file}: {exc}") from None
        if not key:
            raise ValueError(f"the API key file {self.api_key_file} is empty")
        self.api_key = SecretStr(key)
        return self

    @model_validator(mode="after")
    def _lease_outlasts_heartbeats(self) -> Settings:
        if self.node_lease <= 2 * self.node_heartbeat:  # a node fences its sessions after max(lease - heartbeat, lease / 2) s unrenewed
            raise ValueError(
                f"--node-lease ({self.node_lease:g} s) must be more than twice --node-heartbeat ({self.node_heartbeat:g} s): "
                "a node stops its CLIs when it has not renewed their leases for the lease minus a heartbeat"
            )
        return self

    @field_validator("sandbox_settings", mode="before")
    @classmethod
    def _sandbox_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError("must be a JSON object (Claude Code's SandboxSettings)") from None
        if value is None:
            return None
        return ToolSandbox.model_validate(value, strict=False).model_dump(exclude_none=True)

    @field_validator("workspace", "data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def is_loopback(self) -> bool:
        """True when ``host`` only accepts connections from this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def api_key_value(self) -> str | None:
        """The API key as plain text, or None when auth is off."""
        return self.api_key.get_secret_value() if self.api_key else None
