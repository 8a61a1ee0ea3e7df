"""Each session's Claude Code CLI in its own bubblewrap sandbox (``--isolation bwrap``).

:func:`bwrap_args` is the whole policy, one pure function of a :class:`SandboxSpec`:

- own PID, IPC, UTS and user namespaces, a new terminal session, ``--die-with-parent``,
  every capability dropped; inside, the CLI runs as an ordinary uid (not root), which
  is what lets Claude Code's own Bash sandbox (a nested bwrap) start, and lets
  ``bypassPermissions`` run without ``IS_SANDBOX``;
- the system read-only (``/`` bound read-only), a fresh ``/dev``, a ``/proc`` of the
  sandbox's own processes, a private ``/tmp``, an empty ``/home``;
- hidden under empty tmpfs that cannot be listed (mode 0111): the workspace, the server's
  data dir, the server's HOME (``~/.claude`` with it) and Claude config dir, and any other
  path the server names (the API key file, the LiteLLM config); masked files read empty;
- read-only again: the CLI's own directory (it may live under a hidden path);
  read-write: the session's cwd and its private HOME at ``/home/agent`` (``CLAUDE_CONFIG_DIR``
  inside it, holding this session's config and transcript only);
- the environment cleared: only fixed values and the variables the SDK sets for the
  CLI (the model route and the session's model key among them) reach it.

Network stays the host's: the CLI reaches the model through this server's endpoint.

The private HOME lives in the data dir (``sandboxes/<id>/home``), so it outlives a
hibernated CLI; the server keeps reading the transcript at its usual place
(``~/.claude/projects/<cwd key>/<id>.jsonl``), which becomes a symlink into it
(:meth:`Sandbox.prepare`).
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_agent_sdk import project_key_for_directory

from ..datadir import private_directory
from . import transcripts

log = logging.getLogger(__name__)

SANDBOX_HOME = Path("/home/agent")
"""The session's HOME inside (its private directory bound there, over an empty ``/home``)."""
SANDBOX_CONFIG = SANDBOX_HOME / ".claude"
"""The CLI's config dir inside (``CLAUDE_CONFIG_DIR``; also the SDK's, to mirror its transcript lines)."""
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SANDBOX_UID = 1000
"""The uid the CLI runs as inside when the server runs as root (an ordinary user inside:
no capabilities, and Claude Code's nested sandbox can create its own namespaces)."""
FORWARDED = (
    "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_SMALL_FAST_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_AGENT_SDK_VERSION",
    "CLAUDE_AGENT_SDK_CLIENT_APP", "CLAUDE_CODE_SDK_READS_SESSION_STATE", "CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING",
    "CLAUDE_CODE_STREAM_CLOSE_TIMEOUT", "MAX_THINKING_TOKENS", "DEBUG_CLAUDE_AGENT_SDK",
    "CLAUDE_CODE_SKIP_BEDROCK_AUTH", "ANTHROPIC_BEDROCK_BASE_URL", "AWS_REGION",
    "CLAUDE_CODE_SKIP_VERTEX_AUTH", "ANTHROPIC_VERTEX_BASE_URL", "ANTHROPIC_VERTEX_PROJECT_ID", "CLOUD_ML_REGION",
    "ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL", "ANTHROPIC_DEFAULT_SONNET_MODEL",
)
"""Variables copied from the launcher's environment (what the SDK sets for the CLI: the
session's model route and key, the pass-through's provider, base URL, region and project
for Bedrock or Vertex, the model names, the SDK's own markers), when set. Nothing else of
the server's environment enters: no AWS or Google credential, no OAuth token, no API key
but the session's model key."""


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """What one session's sandbox is made of (absolute, resolved paths)."""

    cwd: Path
    home: Path
    """The session's private directory on the server's side: read-write, the sandbox's HOME
    (:data:`SANDBOX_HOME`); ``CLAUDE_CONFIG_DIR`` is ``.claude`` in it."""
    cli: Path
    """The CLI executable; its directory is bound read-only."""
    hidden: tuple[Path, ...] = ()
    """Directories (or files) nothing of which may show inside: the workspace, the data dir, the server's HOME, ..."""
    uid: int = SANDBOX_UID
    env: dict[str, str] = field(default_factory=dict)
    """Extra fixed variables (besides HOME, CLAUDE_CONFIG_DIR, PATH, ...)."""


def sandbox_env(spec: SandboxSpec) -> dict[str, str]:
    """The fixed part of the CLI's environment inside."""
    return {
        "HOME": str(SANDBOX_HOME),
        "CLAUDE_CONFIG_DIR": str(SANDBOX_CONFIG),
        "PATH": SANDBOX_PATH,
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "SHELL": "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh",
        "USER": "agent",
        **spec.env,
    }


def bwrap_args(spec: SandboxSpec) -> list[str]:
    """The bwrap options (without the program name and the command) for ``spec``; see the module docstring."""
    args = [
        "--unshare-user", "--uid", str(spec.uid), "--gid", str(spec.uid),
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "session",
        "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/home",
    ]
    for path in spec.hidden:
        if path.is_dir():  # empty, and unlistable (mode 0111): only the binds below can be reached through it
            args += ["--perms", "0111", "--tmpfs", str(path)]
        elif path.exists():
            args += ["--ro-bind", "/dev/null", str(path)]
    cli_dir = str(spec.cli.parent)
    args += ["--ro-bind", cli_dir, cli_dir, "--bind", str(spec.cwd), str(spec.cwd), "--bind", str(spec.home), str(SANDBOX_HOME)]
    args += ["--clearenv"]
    for name, value in sandbox_env(spec).items():
        args += ["--setenv", name, value]
    return args + ["--chdir", str(spec.cwd)]


RESUME_DIR = "claude-resume-"
"""The prefix of the temporary config dir the SDK fills from the transcript store to resume a
session (``claude_agent_sdk._internal.session_resume``) and names in ``CLAUDE_CONFIG_DIR``."""


PROMPT_FILE = "claude-agent-prompt-"
"""The prefix of the files a long system prompt reaches the CLI in (:class:`~.options.PromptFiles`)."""


def launcher_script(bwrap: str, spec: SandboxSpec, prefix: list[str]) -> str:
    """A ``/bin/sh`` script running the CLI in the sandbox: ``prefix`` (setsid, setpriv, nice)
    then bwrap, the :data:`FORWARDED` variables copied when set, then the CLI with the SDK's arguments.

    Files the server made for this start are bound at their own paths (the sandbox's ``/tmp``
    is its own): the prompt files among the arguments (:data:`PROMPT_FILE`, read-only), and for
    a resume from the transcript store the temporary config dir the SDK filled and names in
    ``CLAUDE_CONFIG_DIR`` (:data:`RESUME_DIR`; it holds the transcript and copies of files of
    :data:`SANDBOX_CONFIG`, which does not exist outside), used as the CLI's config dir. The SDK
    mirrors only transcript lines written under the config dir it knows, which is that dir, or
    :data:`SANDBOX_CONFIG` (the server names the path inside).
    """
    forwarded = " ".join(f'${{{n}+--setenv}} ${{{n}+{n}}} ${{{n}+"${n}"}}' for n in FORWARDED)
    command = shlex.join([*prefix, bwrap, *bwrap_args(spec)])
    find = (
        f'r=; case "${{CLAUDE_CONFIG_DIR:-}}" in */{RESUME_DIR}*) r="$CLAUDE_CONFIG_DIR" ;; esac\n'
        f'p1=; p2=; for a in "$@"; do case "$a" in /*/{PROMPT_FILE}*) if [ -z "$p1" ]; then p1="$a"; else p2="$a"; fi ;; esac; done\n'
    )
    files = (
        '${p1:+--ro-bind} ${p1:+"$p1"} ${p1:+"$p1"} ${p2:+--ro-bind} ${p2:+"$p2"} ${p2:+"$p2"} '
        '${r:+--bind} ${r:+"$r"} ${r:+"$r"} ${r:+--setenv} ${r:+CLAUDE_CONFIG_DIR} ${r:+"$r"}'
    )
    return f'#!/bin/sh\n{find}exec {command} {files} {forwarded} -- {shlex.quote(str(spec.cli))} "$@"\n'


def probe(bwrap: str | None) -> str | None:
    """None when bwrap can build a sandbox like a session's here; else why not (one line)."""
    if bwrap is None:
        return "bwrap (Debian's bubblewrap package) is not installed"
    spec = SandboxSpec(cwd=Path("/"), home=Path("/tmp"), cli=Path("/bin/true"))
    try:
        done = subprocess.run([bwrap, *bwrap_args(spec), "/bin/true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap cannot run: {exc}"
    if done.returncode != 0:
        return f"bwrap cannot create a sandbox here: {done.stderr.decode(errors='replace').strip()[:200]}"
    return None


class Sandbox:
    """Writes each session's launcher and keeps its private HOME under ``data_dir/sandboxes``.

    Args:
        bwrap: The bwrap executable.
        data_dir: The server's data dir (hidden inside; the private homes live in it).
        cli: The real CLI.
        hidden: Further paths to hide (the workspace, the server's HOME, the key file, ...).
        prefix: Commands to run bwrap under (``setsid``, ``setpriv --pdeathsig TERM --``, ``nice -n 10``).
    """

    def __init__(self, bwrap: str, data_dir: Path, cli: Path, hidden: tuple[Path, ...], prefix: list[str]) -> None:
        self.bwrap = bwrap
        self.root = data_dir / "sandboxes"
        self.cli = cli
        self.hidden = tuple(dict.fromkeys(p.expanduser().resolve() for p in (data_dir, *hidden)))
        self.prefix = prefix
        self.uid = os.getuid() or SANDBOX_UID

    def home(self, session_id: str) -> Path:
        """The session's private HOME on the server's side."""
        return self.root / session_id / "home"


    def prepare(self, session_id: str, cwd: Path) -> SandboxSpec:
        """Create the session's private HOME (0700) and link its transcript (blocking I/O).

        The transcript lives in the private config dir; the server's own path for it is a
        symlink there. A transcript already at the server's path (a seeded or forked
        session, one run without isolation) moves in first.
        """
        private_directory(self.root)
        home = private_directory(self.home(session_id))
        inside = home / ".claude" / "projects" / project_key_for_directory(str(cwd)) / f"{session_id}.jsonl"
        inside.parent.mkdir(parents=True, exist_ok=True)
        outside = transcripts.transcript_path(session_id, cwd)
        if outside.is_file() and not outside.is_symlink() and not inside.exists():
            shutil.move(outside, inside)
        if not outside.is_symlink():
            outside.parent.mkdir(parents=True, exist_ok=True)
            outside.unlink(missing_ok=True)
            outside.symlink_to(inside)
        return SandboxSpec(cwd=cwd, home=home, cli=self.cli, hidden=self.hidden, uid=self.uid)

    def launcher(self, session_id: str, cwd: Path) -> Path:
        """Prepare the session's sandbox and write its launcher (mode 0700); its path, the SDK's ``cli_path``."""
        spec = self.prepare(session_id, cwd)
        path = self.root / session_id / "launch"
        path.write_text(launcher_script(self.bwrap, spec, self.prefix))
        path.chmod(0o700)
        return path

    def tidy(self, session_id: str, cwd: Path) -> None:
        """The session's CLI has stopped: if it wrote no transcript (a warm client never used),
        remove the link to it and its private HOME, leaving no trace."""
        outside = transcripts.transcript_path(session_id, cwd)
        if outside.is_symlink() and not outside.exists():
            outside.unlink(missing_ok=True)
            self.discard(session_id)

    def discard(self, session_id: str) -> None:
        """Remove the session's private HOME and launcher (its transcript with them)."""
        shutil.rmtree(self.root / session_id, ignore_errors=True)


def resolve_isolation(setting: str | None) -> tuple[str, str | None]:
    """``(isolation in force, why bwrap is not)`` for the ``--isolation`` setting.

    Raises:
        RuntimeError: ``bwrap`` was asked for and cannot run here (the message is one line).
    """
    if setting == "none":
        return "none", None
    problem = probe(shutil.which("bwrap"))
    if problem is None:
        return "bwrap", None
    if setting == "bwrap":
        raise RuntimeError(f"--isolation bwrap: {problem} (install bubblewrap, or run with --isolation none)")
    return "none", problem


def tool_sandbox(requested: dict[str, Any] | None, default: dict[str, Any] | None, *, nested: bool) -> dict[str, Any] | None:
    """Claude Code's own Bash sandbox settings for a session: its own, else the server's default.

    Inside this server's sandbox (``nested``) an enabled one gets ``enableWeakerNestedSandbox``
    unless it says otherwise: Claude Code's bwrap cannot mount a ``/proc`` there, and without
    it every sandboxed command fails ("Can't mount proc"; verified). The weaker mode keeps
    its read-only file system and its network filter (verified: a write outside the cwd
    fails, a connection to a host not allowed fails).
    """
    settings = requested if requested is not None else default
    if settings is None or not nested or not settings.get("enabled") or "enableWeakerNestedSandbox" in settings:
        return settings
    return {**settings, "enableWeakerNestedSandbox": True}
