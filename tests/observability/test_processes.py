"""Reading the server's child processes from /proc: a fake /proc tree, and the real one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from claude_agent_server.observability.processes import ChildMemory, descendant_memory, uptime_seconds

PAGE = os.sysconf("SC_PAGE_SIZE")


def fake_proc(root: Path, processes: dict[int, tuple[int, int, str]], uptime: float = 1000.0) -> Path:
    """``{pid: (ppid, resident pages, command name)}`` as /proc/<pid>/stat and statm files."""
    for pid, (ppid, pages, name) in processes.items():
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "stat").write_text(f"{pid} ({name}) S {ppid} {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n")
        (root / str(pid) / "statm").write_text(f"100 {pages} 10 1 0 50 0\n")
    (root / "uptime").write_text(f"{uptime} 123.0\n")
    (root / "self").mkdir()
    return root


def test_descendants_and_their_memory_are_summed(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {
        10: (1, 5, "server"),
        11: (10, 100, "claude"),
        12: (10, 200, "claude ) (odd name"),  # a command name with spaces and parentheses
        13: (12, 7, "bash"),  # a tool the CLI runs
        20: (1, 999, "someone else"),
    })
    assert descendant_memory(10, proc) == ChildMemory(3, 307 * PAGE)
    assert descendant_memory(13, proc) == ChildMemory(0, 0)
    assert descendant_memory(99, proc) is None  # no such process (or no /proc at all)


def test_uptime_from_the_start_time(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {10: (1, 5, "server")}, uptime=1000.0)
    assert uptime_seconds(10, proc) == 1000.0 - 5000 / os.sysconf("SC_CLK_TCK")
    assert uptime_seconds(99, proc) is None


def test_the_real_proc_sees_a_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; b = b'x' * 50_000_000; time.sleep(30)"])
    try:
        deadline = time.monotonic() + 30
        while (reading := descendant_memory()) is not None and reading.rss_bytes < 50_000_000 and time.monotonic() < deadline:
            time.sleep(0.1)  # until the child has filled its memory
        assert reading is not None and reading.processes >= 1 and reading.rss_bytes >= 50_000_000
    finally:
        child.kill()
        child.wait()
    assert (uptime_seconds() or 0) > 0
