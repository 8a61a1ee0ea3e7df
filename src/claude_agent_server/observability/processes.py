"""The server's child processes as the kernel sees them: how many, how much memory, and
the server process's own uptime. Read from Linux's ``/proc``; elsewhere the readings are None.

The server's descendants are the Claude Code CLIs (the launcher ``exec``\\s into
them) and the tools they run, so their summed resident memory is what the sessions
cost in RAM (about 225 MB per CLI, see NOTES).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ChildMemory:
    """``processes`` descendants of the server and their summed resident set size in bytes."""

    processes: int
    rss_bytes: int


def _stat_fields(pid: str, proc: Path) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name (which may hold spaces and parentheses)."""
    try:
        stat = (proc / pid / "stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()


def _rss_bytes(pid: str, proc: Path) -> int:
    try:
        pages = int((proc / pid / "statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0  # it exited meanwhile
    return pages * os.sysconf("SC_PAGE_SIZE")


def descendant_memory(root: int | None = None, proc: Path = PROC) -> ChildMemory | None:
    """The descendants of process ``root`` (default: this process) and their RSS in bytes.

    Returns:
        None when ``proc`` does not list ``root`` (not Linux, or no such process).
    """
    root = os.getpid() if root is None else root
    if _stat_fields(str(root), proc) is None:
        return None
    children: dict[int, list[str]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry.name, proc)
        if fields and len(fields) > 1 and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(entry.name)
    found: list[str] = []
    frontier = [root]
    while frontier:
        kids = children.get(frontier.pop(), [])
        found.extend(kids)
        frontier.extend(int(k) for k in kids)
    return ChildMemory(len(found), sum(_rss_bytes(pid, proc) for pid in found))


def uptime_seconds(pid: int | None = None, proc: Path = PROC) -> float | None:
    """Seconds since process ``pid`` (default: this one) started; None without ``/proc``."""
    fields = _stat_fields(str(os.getpid() if pid is None else pid), proc)
    try:
        started_ticks = int(fields[19]) if fields else None  # field 22 of stat: starttime, in clock ticks after boot
        booted = float((proc / "uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    if started_ticks is None:
        return None
    return max(booted - started_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
