"""Benchmark: several nodes on one PostgreSQL registry (real servers, demo model, real Claude Code CLI).

Three figures, each measured in the same run so every side sees the same machine load:

* **forwarding**: the same one-turn message sent alternately to the session's owner node and
  to another node (which forwards it): median and p95 latency (ms) of each and the difference;
* **wake after the owner died**: a session's owner is killed (``kill -9``); once another node
  has taken over (the lease expired), the next message through it wakes the session there;
  against a local wake (a session hibernated on its own node, then messaged there);
* **turns per second** with 1, 2 and 3 nodes: one session per node, turns sent concurrently,
  each through a node other than its owner when there are several (one PostgreSQL database each).

    uv run python bench/cluster.py [--turns 30] [--wakes 3] [--seconds 10] [--only forwarding|wakes|throughput]

Only 127.0.0.1 is contacted. Needs PostgreSQL on 127.0.0.1:5432 (as the tests do).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from databases import postgres_database_sync  # noqa: E402
from servers import ServerProcess  # noqa: E402

LEASE = 3.0
PROMPT = "remember that benchmarks are fun"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def cluster(root: Path, count: int) -> Iterator[list[ServerProcess]]:
    """``count`` demo nodes on a fresh PostgreSQL database, one shared workspace and HOME."""
    home, workspace = root / "home", root / "workspace"
    home.mkdir(parents=True, exist_ok=True)
    workspace.mkdir(parents=True, exist_ok=True)
    with postgres_database_sync() as url, ExitStack() as stack:
        nodes = []
        for index in range(count):
            node_root = Path(tempfile.mkdtemp(dir=root))
            node = ServerProcess(
                node_root, "--demo", "--database-url", url, "--data-dir", str(node_root / "data"), "--node-id", f"n{index}",
                "--node-heartbeat", "0.5", "--node-lease", str(LEASE), "--warm-sessions", "0", home=home, workspace=workspace,
            )
            node.start()
            stack.callback(node.stop)
            nodes.append(node)
        yield nodes


def turn(http: httpx.Client, session_id: str, message: str = PROMPT) -> float:
    """One turn's latency in ms (raises on a non-200)."""
    started = time.perf_counter()
    reply = http.post(f"/sessions/{session_id}/messages", json={"message": message})
    reply.raise_for_status()
    return (time.perf_counter() - started) * 1000


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in ms (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def forwarding(nodes: list[ServerProcess], turns: int) -> None:
    owner, other = nodes[0].client(timeout=120), nodes[1].client(timeout=120)
    pid = nodes[1].process.pid  # type: ignore[union-attr]
    sid = owner.post("/sessions", json={}).json()["session_id"]
    turn(owner, sid)
    turn(other, sid)  # warm-up of both paths
    direct, forwarded = [], []
    cpu = {"direct": 0.0, "forwarded": 0.0}  # the other node's CPU during each kind of turn

    def timed(kind: str, http: httpx.Client, samples: list[float]) -> None:
        before = cpu_ms(pid)
        samples.append(turn(http, sid))
        cpu[kind] += cpu_ms(pid) - before

    for n in range(turns):  # the order alternates, so what one turn leaves running falls on both alike
        if n % 2:
            timed("forwarded", other, forwarded)
            timed("direct", owner, direct)
        else:
            timed("direct", owner, direct)
            timed("forwarded", other, forwarded)
    for label, samples in (("owner node", direct), ("other node (forwarded)", forwarded)):
        print(f"turn via {label:<24} median {statistics.median(samples):7.1f} ms   p95 {percentile(samples, 0.95):7.1f} ms")
    print(f"other node's CPU per turn: {cpu['forwarded'] / turns:.1f} ms forwarding it, {cpu['direct'] / turns:.1f} ms when the owner is called"
          f" (the hop's own cost: {(cpu['forwarded'] - cpu['direct']) / turns:+.1f} ms, whatever the load)")
    print(f"forwarding adds (median)              {statistics.median(forwarded) - statistics.median(direct):+7.1f} ms")
    pairs = [f - d for f, d in zip(forwarded, direct, strict=True)]  # each pair sent back to back: less of the load's drift
    print(f"forwarding adds (median of pairs)     {statistics.median(pairs):+7.1f} ms   ratio {statistics.median(forwarded) / statistics.median(direct):.3f}x")


def wakes(nodes: list[ServerProcess], count: int) -> None:
    survivor = nodes[-1].client(timeout=120)
    local, remote = [], []
    for _ in range(count):
        sid = survivor.post("/sessions", json={}).json()["session_id"]
        turn(survivor, sid)
        survivor.post(f"/sessions/{sid}/hibernate").raise_for_status()
        local.append(turn(survivor, sid))
    victims = nodes[:-1]
    for victim in victims[:count]:
        with victim.client(timeout=120) as on_victim:
            sid = on_victim.post("/sessions", json={}).json()["session_id"]
            turn(on_victim, sid)
        victim.kill()
        deadline = time.monotonic() + LEASE + 30
        while survivor.get(f"/sessions/{sid}/status").json().get("status") != "hibernated":
            if time.monotonic() > deadline:
                raise RuntimeError("the dead node's session was not taken over")
            time.sleep(0.1)
        remote.append(turn(survivor, sid))
    print(f"wake on its own node (hibernated)      median {statistics.median(local):7.1f} ms   ({len(local)} wakes)")
    print(f"wake on another node (owner killed)    median {statistics.median(remote):7.1f} ms   ({len(remote)} wakes)")


def throughput(root: Path, count: int, seconds: float) -> float:
    with cluster(root / f"tps{count}", count) as nodes:
        clients = [node.client(timeout=120) for node in nodes]
        sessions = [clients[i].post("/sessions", json={}).json()["session_id"] for i in range(count) for _ in range(2)]
        done = [0]
        lock = threading.Lock()
        window = [0.0, 0.0]  # start and end, set once every worker has warmed up

        def start_window() -> None:
            window[0] = time.monotonic()
            window[1] = window[0] + seconds

        ready = threading.Barrier(len(sessions), action=start_window)

        def worker(index: int, sid: str) -> None:
            via = clients[(index // 2 + 1) % count]  # another node than the owner when there are several
            turn(via, sid)  # warm-up (the forwarding path included)
            ready.wait()
            while time.monotonic() < window[1]:
                turn(via, sid)
                with lock:
                    done[0] += 1

        threads = [threading.Thread(target=worker, args=(i, sid)) for i, sid in enumerate(sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rate = done[0] / (time.monotonic() - window[0])
        print(f"turns/s with {count} node(s), {len(sessions)} sessions          {rate:7.2f}")
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--wakes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--nodes", type=int, default=3, help="largest cluster for turns/s")
    parser.add_argument("--only", choices=("forwarding", "wakes", "throughput"), help="one of the three figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.only in (None, "forwarding", "wakes"):
            with cluster(root / "main", max(2, min(args.wakes, 2) + 1)) as nodes:
                if args.only in (None, "forwarding"):
                    forwarding(nodes, args.turns)
                if args.only in (None, "wakes"):
                    wakes(nodes, args.wakes)
        if args.only in (None, "throughput"):
            for count in range(1, args.nodes + 1):
                throughput(root, count, args.seconds)


if __name__ == "__main__":
    main()
