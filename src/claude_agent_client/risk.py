"""Warnings for tool calls that deserve a second look before approval."""

from __future__ import annotations

import os
import re
import shlex
from typing import Any

__all__ = ["warnings_for"]

_BASH_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\brm\s+(-\w*r\w*f|-\w*f\w*r|-r\s+-f|-f\s+-r|--recursive)", re.I), "deletes files recursively (rm -rf)"),
    (re.compile(r"\bsudo\b"), "runs with root privileges (sudo)"),
    (re.compile(r"\b(mkfs|fdisk|parted|wipefs)\b"), "formats or repartitions a disk"),
    (re.compile(r"\bdd\b.*\bof="), "writes raw data with dd"),
    (re.compile(r">\s*/dev/(sd|nvme|hd|disk)"), "writes to a block device"),
    (re.compile(r"\bchmod\s+(-R\s+)?0?777\b"), "makes files world-writable (chmod 777)"),
    (re.compile(r"\b(curl|wget)\b[^|]*\|\s*(sudo\s+)?(ba|z)?sh\b"), "pipes a download into a shell"),
    (re.compile(r"\bgit\s+push\b.*(--force\b|-f\b)"), "force-pushes git history"),
    (re.compile(r"\bgit\s+(reset\s+--hard|clean\s+-\w*f)"), "discards local git changes"),
    (re.compile(r"\b(shutdown|reboot|halt|poweroff)\b"), "shuts down or reboots the machine"),
    (re.compile(r":\(\)\s*\{"), "looks like a fork bomb"),
)
_REDIRECT = re.compile(r"(?:>>?|\btee\s+(?:-a\s+)?)\s*([^\s;&|]+)")
_WRITE_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path", "NotebookEdit": "notebook_path"}


def _outside(path: str, cwd: str | None) -> bool:
    if not cwd or not path or path.startswith("/dev/null"):
        return False
    target = os.path.normpath(os.path.join(cwd, os.path.expanduser(path)))
    root = os.path.normpath(cwd)
    return target != root and not target.startswith(root.rstrip("/") + "/")


def warnings_for(tool_name: str, tool_input: dict[str, Any], cwd: str | None = None, blocked_path: str | None = None) -> list[str]:
    """Human-readable warnings for one tool call (empty when nothing stands out).

    Args:
        tool_name: e.g. ``Bash``, ``Write``, ``Edit``.
        tool_input: The call's input (``command``, ``file_path``, ...).
        cwd: The session's working directory; writes outside it are flagged.
        blocked_path: The path Claude Code reported as outside the allowed directories.
    """
    found: list[str] = []
    if tool_name == "Bash":
        command = str(tool_input.get("command", ""))
        found += [text for pattern, text in _BASH_RULES if pattern.search(command)]
        for target in _REDIRECT.findall(command):
            try:
                target = shlex.split(target)[0]
            except (ValueError, IndexError):
                pass
            if not target.startswith("&") and _outside(target, cwd):
                found.append(f"writes outside the working directory: {target}")
    elif tool_name in _WRITE_TOOLS:
        path = str(tool_input.get(_WRITE_TOOLS[tool_name], ""))
        if _outside(path, cwd):
            found.append(f"writes outside the working directory ({cwd}): {path}")
    if blocked_path and _outside(blocked_path, cwd) and not any(blocked_path in w for w in found):
        found.append(f"touches a path outside the allowed directories: {blocked_path}")
    return found
