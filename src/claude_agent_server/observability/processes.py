"""The server's child processes: how many and how much memory, and the server's uptime (psutil).

The server's descendants are the Claude Code CLIs (the launcher ``exec``\\s into
them) and the tools they run, so their summed resident memory is what the sessions
cost in RAM (about 225 MB per CLI, see NOTES).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psutil


@dataclass(frozen=True, slots=True)
class ChildMemory:
    """``processes`` descendants of the server and their summed resident set size in bytes."""

    processes: int
    rss_bytes: int


def descendant_memory(root: int | None = None) -> ChildMemory | None:
    """The descendants of process ``root`` (default: this process) and their RSS in bytes.

    Returns:
        None when there is no such process or it cannot be read.
    """
    try:
        children = psutil.Process(root).children(recursive=True)
    except psutil.Error:
        return None
    rss = 0
    for child in children:
        try:
            rss += child.memory_info().rss
        except psutil.Error:
            pass  # it exited meanwhile
    return ChildMemory(len(children), rss)


def uptime_seconds(pid: int | None = None) -> float | None:
    """Seconds since process ``pid`` (default: this one) started; None when it cannot be read."""
    try:
        return max(time.time() - psutil.Process(pid).create_time(), 0.0)
    except psutil.Error:
        return None
