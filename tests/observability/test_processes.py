"""The server's child processes and their memory, read from the real system."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from claude_agent_server.observability.processes import descendant_memory, uptime_seconds

CHILD = "import subprocess, sys, time; b = b'x' * 50_000_000; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)"


def test_descendants_and_their_memory_are_summed() -> None:
    before = descendant_memory()
    assert before is not None
    child = subprocess.Popen([sys.executable, "-c", CHILD])  # a child holding 50 MB, with a child of its own
    try:
        deadline = time.monotonic() + 30
        while (reading := descendant_memory()) is not None and time.monotonic() < deadline:
            if reading.processes >= before.processes + 2 and reading.rss_bytes >= before.rss_bytes + 50_000_000:
                break
            time.sleep(0.1)  # until the child has filled its memory and started its own child
        assert reading is not None
        assert reading.processes >= before.processes + 2 and reading.rss_bytes >= before.rss_bytes + 50_000_000
        mine = descendant_memory(child.pid)
        assert mine is not None and mine.processes == 1  # the grandchild only
    finally:
        for grandchild in psutil.Process(child.pid).children(recursive=True):
            grandchild.kill()
        child.kill()
        child.wait()


def test_a_missing_process_reads_as_none() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert descendant_memory(gone.pid) is None
    assert uptime_seconds(gone.pid) is None


def test_uptime_grows_from_the_start() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.3)
        assert 0.2 < (uptime_seconds(child.pid) or 0) < 30
        assert (uptime_seconds() or 0) > (uptime_seconds(child.pid) or 0)
    finally:
        child.kill()
        child.wait()
