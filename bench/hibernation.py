"""Benchmark: what a hibernated session costs next to a live one, and a wake next to a cold start.

Starts a demo server (scripted model, real Claude Code CLI), creates ``--sessions``
sessions (timing each ``POST /sessions``: a cold start), runs one turn in each,
and reads the memory of the CLIs (VmRSS of each process) and of the server.
Then it hibernates them all, reads the memory again, and wakes each one with
``GET /sessions/{id}/server_info`` (a resume of its transcript), timing that.
Prints medians, the memory per live and per hibernated session, and the ratios.

    uv run python bench/hibernation.py [--sessions 8]

Only 127.0.0.1 is contacted; the run is bounded by ``--sessions``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from servers import running_server  # noqa: E402

MB = 1024 * 1024


def rss(pid: int) -> int:
    """Resident set size of one process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def timed(call) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    reply = call()
    elapsed = (time.perf_counter() - start) * 1000
    assert reply.status_code in (200, 201), reply.text
    return elapsed


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as root, running_server(Path(root), "--demo") as server, server.client() as http:
        assert server.process is not None
        server_before = rss(server.process.pid)
        ids: list[str] = []
        cold: list[float] = []
        for _ in range(count):
            start = time.perf_counter()
            reply = http.post("/sessions", json={})
            cold.append((time.perf_counter() - start) * 1000)
            ids.append(reply.json()["session_id"])
        for session_id in ids:
            assert http.post(f"/sessions/{session_id}/messages", json={"message": "remember that benchmarks are fun"}).status_code == 200
        clis = server.cli_processes()
        live_cli = sum(rss(pid) for pid in clis) / len(clis)
        server_live = rss(server.process.pid)

        for session_id in ids:
            assert http.post(f"/sessions/{session_id}/hibernate").status_code == 200
        deadline = time.monotonic() + 30
        while server.cli_processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not server.cli_processes(), "hibernated sessions left CLI processes"
        server_hibernated = rss(server.process.pid)
        wake = [timed(lambda sid=session_id: http.get(f"/sessions/{sid}/server_info")) for session_id in ids]
        assert len(server.cli_processes()) == count

    per_hibernated = max(server_hibernated - server_before, 0) / count
    print(f"sessions: {count}, demo model, real CLI")
    print(f"memory of a live session (its CLI's RSS):      {live_cli / MB:8.1f} MB")
    print(f"memory of a hibernated session (server RSS growth per session, after all hibernated): {per_hibernated / 1024:8.1f} KB")
    print(f"server RSS: start {server_before / MB:.1f} MB, {count} live {server_live / MB:.1f} MB, all hibernated {server_hibernated / MB:.1f} MB")
    if per_hibernated:
        print(f"ratio live / hibernated memory: {live_cli / per_hibernated:.0f}x")
    print(f"{'':28}{'median ms':>10}{'max ms':>10}")
    print(f"{'cold start (POST /sessions)':28}{statistics.median(cold):10.1f}{max(cold):10.1f}")
    print(f"{'wake (resume a transcript)':28}{statistics.median(wake):10.1f}{max(wake):10.1f}")
    print(f"ratio wake / cold start: median {statistics.median(wake) / statistics.median(cold):.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=8)
    main(parser.parse_args().sessions)
