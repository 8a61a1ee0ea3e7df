"""Benchmark: how the server scales — session start (cold and warm), memory per live and
hibernated session, hibernate and wake, /health under load, and a large registry.

Starts one demo server (scripted model, real Claude Code CLI, warm pool of one) and
prints, each with its baseline from the same run:

* ``POST /sessions`` p50/p95, cold (a spec the pool cannot serve) and warm; warm/cold ratio;
* RSS per live session (its CLI; the server's own growth apart) and per hibernated session
  (the server's growth once every session is hibernated); live/hibernated ratio;
* hibernate and wake latency (a wake resumes the transcript); wake/cold-start ratio;
* ``/health`` p50/p99 idle and while N turns run at once; loaded/idle ratio;
* ``GET /sessions`` (a page of 50) p50 with many sessions in the registry (inserted
  through the registry layer, not as CLIs), and the server's RSS growth per 1,000 of them;
* how many live sessions this machine's available memory would hold at the measured RSS;
* isolation on against off (``--isolation bwrap`` / ``none``, two more servers running at once,
  starts and wakes alternating between them): cold session start, wake, and RSS per live
  session (its CLI and its sandbox's bwrap processes).

    uv run python bench/scale.py [--quick] [--only-isolation] [--starts N]

Only 127.0.0.1 is contacted; every phase is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from servers import ServerProcess, running_server  # noqa: E402

from claude_agent_server.store import SessionRecord, SqlRegistry, default_database_url  # noqa: E402

MB = 1024 * 1024
SANDBOXED = shutil.which("bwrap") is not None


def rss(pid: int) -> int:
    """Resident set size of one process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def available_memory() -> int:
    """MemAvailable of this machine, in bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_ms(call: Callable[[], httpx.Response], ok: tuple[int, ...] = (200, 201)) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    reply = call()
    elapsed = (time.perf_counter() - start) * 1000
    assert reply.status_code in ok, reply.text
    return elapsed, reply


def wait_until(predicate: Callable[[], Any], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def row(name: str, value: str, ratio: str = "") -> None:
    print(f"  {name:<44}{value:>26}   {ratio}")


def session_start(http: httpx.Client, server: ServerProcess, count: int) -> tuple[list[float], list[float]]:
    """``POST /sessions`` times (ms), cold and warm, each session closed after."""
    (server.workspace / "cold").mkdir(exist_ok=True)
    cold, warm = [], []
    for _ in range(count):
        wait_until(lambda: http.get("/health").json()["warm_sessions"] == 1)
        elapsed, reply = timed_ms(lambda: http.post("/sessions", json={}))
        warm.append(elapsed)
        http.delete(f"/sessions/{reply.json()['session_id']}")
        elapsed, reply = timed_ms(lambda: http.post("/sessions", json={"cwd": "cold"}))
        cold.append(elapsed)
        http.delete(f"/sessions/{reply.json()['session_id']}")
    return cold, warm


def memory_and_wake(http: httpx.Client, server: ServerProcess, count: int) -> dict[str, Any]:
    """RSS of live and hibernated sessions, hibernate and wake times."""
    assert server.process is not None
    wait_until(lambda: http.get("/health").json()["warm_sessions"] == 1)
    server_before = rss(server.process.pid)
    ids = [http.post("/sessions", json={"cwd": "cold"}).json()["session_id"] for _ in range(count)]
    for session_id in ids:
        assert http.post(f"/sessions/{session_id}/messages", json={"message": "remember that scale matters"}).status_code == 200
    clis = [pid for pid in server.cli_processes()]
    live_cli = statistics.mean(rss(pid) for pid in clis)
    server_live = rss(server.process.pid)
    hibernate = [timed_ms(lambda sid=sid: http.post(f"/sessions/{sid}/hibernate"))[0] for sid in ids]
    wait_until(lambda: len(server.cli_processes()) <= 1)  # the warm client stays
    server_hibernated = rss(server.process.pid)
    wake = [timed_ms(lambda sid=sid: http.get(f"/sessions/{sid}/server_info"))[0] for sid in ids]
    for session_id in ids:
        http.delete(f"/sessions/{session_id}")
    return {
        "live_cli": live_cli,
        "server_per_live": (server_live - server_before) / count,
        "server_per_hibernated": max(server_hibernated - server_before, 0) / count,
        "hibernate": hibernate,
        "wake": wake,
    }


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def session_rss(server: ServerProcess) -> list[int]:
    """RSS of each live session: its CLI and the processes between it and the server (a sandbox's bwraps)."""
    assert server.process is not None
    sizes = []
    for pid in server.cli_processes():
        total, current = rss(pid), parent(pid)
        while current not in (server.process.pid, 0, 1):
            total += rss(current)
            current = parent(current)
        sizes.append(total)
    return sizes


def isolation_costs(root: Path, modes: tuple[str, ...], starts: int, live: int) -> dict[str, dict[str, Any]]:
    """Cold start and wake times, and RSS per live session, of one server per ``--isolation``
    mode, all running at once: each start and each wake alternates between them (the order
    rotating), so every mode sees the same machine load."""
    args = ("--demo", "--warm-sessions", "0", "--max-live-sessions", str(live + 2))
    with ExitStack() as stack:
        servers = {mode: stack.enter_context(running_server(root / mode, *args, "--isolation", mode)) for mode in modes}
        https = {mode: stack.enter_context(server.client()) for mode, server in servers.items()}
        results: dict[str, dict[str, Any]] = {mode: {"cold": [], "wake": []} for mode in modes}
        for server in servers.values():
            (server.workspace / "cold").mkdir(exist_ok=True)

        def rotated(n: int) -> list[str]:
            return list(modes[n % len(modes):] + modes[:n % len(modes)])

        for n in range(starts):
            for mode in rotated(n):
                elapsed, reply = timed_ms(lambda http=https[mode]: http.post("/sessions", json={"cwd": "cold"}))
                results[mode]["cold"].append(elapsed)
                https[mode].delete(f"/sessions/{reply.json()['session_id']}")
        ids: dict[str, list[str]] = {}
        for mode, http in https.items():
            ids[mode] = [http.post("/sessions", json={"cwd": "cold"}).json()["session_id"] for _ in range(live)]
            for session_id in ids[mode]:
                assert http.post(f"/sessions/{session_id}/messages", json={"message": "remember that walls matter"}).status_code == 200
            results[mode]["rss"] = statistics.mean(session_rss(servers[mode]))
            for session_id in ids[mode]:
                http.post(f"/sessions/{session_id}/hibernate")
        for server in servers.values():
            wait_until(lambda server=server: not server.cli_processes())
        for n in range(live):
            for mode in rotated(n):
                sid = ids[mode][n]
                results[mode]["wake"].append(timed_ms(lambda http=https[mode], sid=sid: http.get(f"/sessions/{sid}/server_info"))[0])
        for mode, http in https.items():
            for session_id in ids[mode]:
                http.delete(f"/sessions/{session_id}")
    return results


def health_under_load(server: ServerProcess, turns: int, seconds: float) -> tuple[list[float], list[float]]:
    """``/health`` latencies (ms) idle, then while ``turns`` sessions run turn after turn."""
    with server.client() as http:
        idle = [timed_ms(lambda: http.get("/health"))[0] for _ in range(100)]
        ids = [http.post("/sessions", json={"cwd": "cold"}).json()["session_id"] for _ in range(turns)]
    stop = threading.Event()

    def keep_talking(session_id: str) -> int:
        done = 0
        with server.client(timeout=120) as client:
            while not stop.is_set():
                assert client.post(f"/sessions/{session_id}/messages", json={"message": "hello"}).status_code == 200
                done += 1
        return done

    with ThreadPoolExecutor(turns) as pool, server.client() as http:
        talking = [pool.submit(keep_talking, sid) for sid in ids]
        time.sleep(1.0)  # let the turns get going
        loaded: list[float] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            loaded.append(timed_ms(lambda: http.get("/health"))[0])
            time.sleep(0.02)
        stop.set()
        finished = sum(f.result() for f in talking)
        for session_id in ids:
            http.delete(f"/sessions/{session_id}")
    assert finished > 0
    return idle, loaded


async def register(url: str, count: int, cwd: Path) -> list[str]:
    """Insert ``count`` hibernated sessions through the registry layer (batched by its writer); their ids."""
    registry = await SqlRegistry.open(url)
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    try:
        for n, session_id in enumerate(ids):
            spec = {"cwd": str(cwd), "model": None, "permission_mode": "default"}
            registry.update(SessionRecord(session_id, spec, now, now, f"registered {n}", "hibernated", "hibernated"))
        await registry.flush()
    finally:
        await registry.close()
    return ids


def big_registry(http: httpx.Client, server: ServerProcess, count: int, touched: int) -> dict[str, Any]:
    """With ``count`` more sessions registered: ``GET /sessions`` times (ms), the server's RSS
    growth per registered session and per hibernated session loaded in memory (bytes)."""
    assert server.process is not None
    before = rss(server.process.pid)
    ids = asyncio.run(register(default_database_url(server.home / ".local/share/claude-agent-server"), count, server.workspace))
    listing = [timed_ms(lambda: http.get("/sessions", params={"limit": 50}))[0] for _ in range(50)]
    assert len(http.get("/sessions", params={"limit": 50}).json()["sessions"]) == 50
    registered = rss(server.process.pid)
    for session_id in ids[:touched]:  # each becomes a hibernated session object in the server
        assert http.get(f"/sessions/{session_id}/status").json()["status"] == "hibernated"
    loaded = rss(server.process.pid)
    return {
        "listing": listing,
        "per_registered": (registered - before) / count,
        "per_loaded": (loaded - registered) / touched,
    }


def print_isolation(isolated: dict[str, dict[str, Any]]) -> None:
    print("isolation: each session's CLI in a bubblewrap sandbox (--isolation bwrap) against none")
    off = isolated["none"]
    on = isolated.get("bwrap")
    for name, key in (("POST /sessions cold p50", "cold"), ("wake p50", "wake")):
        if on is None:
            row(f"{name}, none", f"{statistics.median(off[key]):.1f} ms", "(bwrap unavailable here)")
            continue
        delta = statistics.median(on[key]) - statistics.median(off[key])
        row(f"{name}, none / bwrap", f"{statistics.median(off[key]):.1f} / {statistics.median(on[key]):.1f} ms", f"{delta:+.1f} ms")
    if on is not None:
        row("RSS per live session, none / bwrap", f"{off['rss'] / MB:.1f} / {on['rss'] / MB:.1f} MB", f"{(on['rss'] - off['rss']) / MB:+.1f} MB")


def main(quick: bool, only_isolation: bool = False, starts: int | None = None) -> None:
    counts = (3, 3, 4, 3.0, 1000, 500) if quick else (10, 8, 16, 10.0, 10_000, 5000)
    starts, live, turns, seconds, registered, touched = (starts or counts[0], *counts[1:])
    if only_isolation:
        with tempfile.TemporaryDirectory() as root:
            isolated = isolation_costs(Path(root), ("none", "bwrap") if SANDBOXED else ("none",), starts, live)
        print(f"bench/scale.py (isolation only, {starts} starts, {live} wakes each): demo model, real Claude Code CLI, {time.strftime('%Y-%m-%d')}")
        print_isolation(isolated)
        return
    memory = available_memory()
    with tempfile.TemporaryDirectory() as root:
        cap = str(max(live, turns) + 2)
        with running_server(Path(root), "--demo", "--warm-sessions", "1", "--max-live-sessions", cap) as server, server.client() as http:
            cold, warm = session_start(http, server, starts)
            measured = memory_and_wake(http, server, live)
            idle, loaded = health_under_load(server, turns, seconds)
            registry = big_registry(http, server, registered, touched)
        isolated = isolation_costs(Path(root), ("none", "bwrap") if SANDBOXED else ("none",), starts, live)

    mode = "quick" if quick else "full"
    print(f"bench/scale.py ({mode}): demo model, real Claude Code CLI, {time.strftime('%Y-%m-%d')}")
    print("session start")
    row("POST /sessions cold p50 / p95", f"{statistics.median(cold):.1f} / {pct(cold, 0.95):.1f} ms", "baseline")
    row("POST /sessions warm p50 / p95", f"{statistics.median(warm):.1f} / {pct(warm, 0.95):.1f} ms",
        f"{statistics.median(cold) / statistics.median(warm):.1f}x faster than cold (p50)")
    print("memory")
    per_live = measured["live_cli"] + max(measured["server_per_live"], 0)
    per_hibernated = max(registry["per_loaded"], 1)
    row("live session: its CLI's RSS", f"{measured['live_cli'] / MB:.1f} MB", "baseline")
    row("live session: server RSS growth", f"{measured['server_per_live'] / 1024:.1f} KB")
    row(f"hibernated session, loaded ({touched:,}): server RSS", f"{registry['per_loaded'] / 1024:.1f} KB",
        f"{per_live / per_hibernated:,.0f}x less than live")
    row("hibernated after a live life: server RSS growth", f"{measured['server_per_hibernated'] / 1024:.1f} KB",
        "(allocator high-water mark, turns included)")
    row("registered, not loaded: server RSS growth", f"{registry['per_registered'] / 1024:.2f} KB",
        f"{registry['per_registered'] * 1000 / MB:.2f} MB per 1,000")
    row("live sessions that fit in available memory", f"{int(memory // per_live)}", f"({memory / MB / 1024:.1f} GB available)")
    print("hibernate and wake")
    row("hibernate p50", f"{statistics.median(measured['hibernate']):.1f} ms")
    row("wake p50 (resume of the transcript)", f"{statistics.median(measured['wake']):.1f} ms",
        f"{statistics.median(measured['wake']) / statistics.median(cold):.2f}x a cold start")
    print(f"/health while {turns} turns run at once")
    row("idle p50 / p99", f"{statistics.median(idle):.1f} / {pct(idle, 0.99):.1f} ms", "baseline")
    row(f"loaded p50 / p99 ({len(loaded)} probes)", f"{statistics.median(loaded):.1f} / {pct(loaded, 0.99):.1f} ms",
        f"{pct(loaded, 0.99) / pct(idle, 0.99):.1f}x idle (p99)")
    print_isolation(isolated)
    print(f"registry with {registered:,} more sessions")
    listing = registry["listing"]
    row("GET /sessions (page of 50) p50 / p95", f"{statistics.median(listing):.1f} / {pct(listing, 0.95):.1f} ms",
        f"{statistics.median(listing) / statistics.median(idle):.1f}x /health idle (p50)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts and short phases (a CI smoke test)")
    parser.add_argument("--only-isolation", action="store_true", help="only the isolation figures (bwrap against none)")
    parser.add_argument("--starts", type=int, help="cold starts per server (default: 3 with --quick, else 10)")
    args = parser.parse_args()
    main(args.quick, args.only_isolation, args.starts)
