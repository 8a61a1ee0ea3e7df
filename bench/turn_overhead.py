"""Benchmark: what the server adds to one turn, versus calling the SDK directly.

Starts the demo model (scripted, offline) in a server process of its own, as a
real model endpoint would be, and the server under test pointed at it (real
Claude Code CLI); then alternates the same one-turn message through
``POST /sessions/{id}/messages`` and through a ``ClaudeSDKClient`` pointed at the
same model, so both see the same machine load and the same model. (With the model
served by the server under test, the server's turn and the model's stream of that
turn competed for one event loop, which the direct client's turns never did.) The direct client starts its CLI through the same launcher as the
server's (``nice -n 10``, ``setsid``, ``setpriv``): on a busy machine a CLI at a
lower priority waits longer for a CPU, which is not the server's cost. Prints
median and p95 latency (ms) of each and their ratio, and a one-line ``summary:`` with the
machine's load average before and after (the figures are only comparable at a similar load).

With ``--mirror``, a third client takes part in the same rounds: the direct client again, with
its transcript mirrored into a registry's transcript store (``SqlRegistry.transcripts`` on a
SQLite file, the flush mode the server uses) — what mirroring costs a turn: the median of the
per-round differences against the direct client without a store.

Each round also times ``GET /health`` on the same server with the same httpx client: the HTTP
floor, the loopback round trip (httpx, uvicorn, the middlewares, a trivial route) that a turn
through the server pays and the direct client does not.

With ``--baseline-src DIR``, a second server runs the code of another checkout (``DIR`` is its
``src`` folder, put first on that server's ``PYTHONPATH``) and takes part in the same rounds, the
two servers alternating first: a paired A/B of two versions of the server on the same load.

    uv run python bench/turn_overhead.py [--turns 40] [--isolation none|bwrap] [--mirror] [--baseline-src DIR]

Only 127.0.0.1 is contacted; the run is bounded by ``--turns``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient, ResultMessage

from claude_agent_server.sessions.launcher import write_launcher
from claude_agent_server.sessions.options import TRANSCRIPT_FLUSH
from claude_agent_server.store import SqlRegistry, default_database_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from servers import SCRUBBED_PREFIXES, running_server  # noqa: E402

PROMPT = "remember that benchmarks are fun"
MODEL_ENV = {"ANTHROPIC_API_KEY": "demo-key", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
"""What both CLIs get (the server's inherits it from the server's environment): without
``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC`` on the server's side only, its CLI made calls the
direct one did not, which cost it ~80 ms a turn on a loaded machine."""


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages now, as ``uptime`` shows them."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in ms (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cli_pid(client: ClaudeSDKClient) -> int:
    """The pid of a connected client's CLI (the SDK's private attributes: a bench may peek)."""
    return client._transport._process.pid  # type: ignore[union-attr]


async def sdk_turn(client: ClaudeSDKClient, cpu: list[tuple[float, float]] | None = None) -> float:
    """One turn through a connected client: its latency in ms. With ``cpu``, the CPU ms the turn
    cost this process and the client's CLI are appended to it."""
    start = time.perf_counter()
    before = (time.process_time() * 1000, cpu_ms(cli_pid(client))) if cpu is not None else (0.0, 0.0)
    await client.query(PROMPT)
    async for message in client.receive_response():
        if isinstance(message, ResultMessage):
            assert not message.is_error
    if cpu is not None:
        cpu.append((time.process_time() * 1000 - before[0], cpu_ms(cli_pid(client)) - before[1]))
    return (time.perf_counter() - start) * 1000


async def server_turn(http: httpx.AsyncClient, session_id: str) -> float:
    """One turn through a server's ``POST /sessions/{id}/messages``: its latency in ms."""
    start = time.perf_counter()
    reply = await http.post(f"/sessions/{session_id}/messages", json={"message": PROMPT})
    elapsed = (time.perf_counter() - start) * 1000
    assert reply.status_code == 200 and not reply.json()["is_error"], reply.text
    return elapsed


async def floor(http: httpx.AsyncClient) -> float:
    """One ``GET /health`` round trip on a server (the HTTP floor): its latency in ms."""
    start = time.perf_counter()
    reply = await http.get("/health")
    elapsed = (time.perf_counter() - start) * 1000
    assert reply.status_code == 200, reply.text
    return elapsed


async def main(turns: int, warmup: int, isolation: str, mirror: bool, baseline_src: Path | None) -> None:
    load_before = load_average()

    with contextlib.ExitStack() as stack:
        root = stack.enter_context(tempfile.TemporaryDirectory())
        model = stack.enter_context(running_server(Path(root) / "model", "--demo"))
        server_env = MODEL_ENV | {"ANTHROPIC_BASE_URL": f"{model.url}/demo"}
        server = stack.enter_context(running_server(Path(root) / "server", "--isolation", isolation, env=server_env))
        base = None
        if baseline_src is not None:
            base = stack.enter_context(running_server(
                Path(root) / "base", "--isolation", isolation, env=server_env | {"PYTHONPATH": str(baseline_src)},
                workspace=server.workspace,
            ))
        for name in list(os.environ):
            if name.startswith(SCRUBBED_PREFIXES):
                del os.environ[name]
        os.environ.update(HOME=str(server.home), IS_SANDBOX="1")
        options = ClaudeAgentOptions(
            cwd=str(server.workspace),
            cli_path=write_launcher(Path(root) / "server" / "launcher"),
            include_partial_messages=True,
            env=MODEL_ENV | {"ANTHROPIC_BASE_URL": f"{model.url}/demo"},
        )
        direct = ClaudeSDKClient(options)
        await direct.connect()
        registry = mirrored = None
        if mirror:
            registry = await SqlRegistry.open(default_database_url(Path(root) / "mirror"))
            mirrored = ClaudeSDKClient(replace(options, session_store=registry.transcripts, session_store_flush=TRANSCRIPT_FLUSH))
            await mirrored.connect()
        via_mirror: list[float] = []
        cpu_sdk: list[tuple[float, float]] = []
        cpu_mirror: list[tuple[float, float]] = []
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=60) as http,
            httpx.AsyncClient(base_url=(base or server).url, timeout=60) as base_http,
        ):
            session_id = (await http.post("/sessions", json={})).json()["session_id"]
            base_session = (await base_http.post("/sessions", json={})).json()["session_id"] if base else ""
            via_server: list[float] = []
            via_sdk: list[float] = []
            via_base: list[float] = []
            floors: list[float] = []
            base_floors: list[float] = []
            cpu_start = (cpu_ms(server.process.pid), cpu_ms(base.process.pid) if base else 0.0)  # type: ignore[union-attr]
            for n in range(warmup + turns):
                if n == warmup:
                    cpu_start = (cpu_ms(server.process.pid), cpu_ms(base.process.pid) if base else 0.0)  # type: ignore[union-attr]
                if base is not None and n % 2:
                    base_ms, server_ms = await server_turn(base_http, base_session), await server_turn(http, session_id)
                    base_floor, floor_ms = await floor(base_http), await floor(http)
                else:
                    server_ms = await server_turn(http, session_id)
                    base_ms = await server_turn(base_http, base_session) if base is not None else 0.0
                    floor_ms = await floor(http)
                    base_floor = await floor(base_http) if base is not None else 0.0

                cpu = (cpu_mirror, cpu_sdk) if mirrored is not None and n >= warmup else (None, None)
                if mirrored is not None and n % 2:  # the two alternate: what one leaves running falls on both alike
                    mirror_ms, sdk_ms = await sdk_turn(mirrored, cpu[0]), await sdk_turn(direct, cpu[1])
                else:
                    sdk_ms = await sdk_turn(direct, cpu[1])
                    mirror_ms = await sdk_turn(mirrored, cpu[0]) if mirrored is not None else 0.0
                if n >= warmup:
                    via_server.append(server_ms)
                    via_sdk.append(sdk_ms)
                    via_mirror.append(mirror_ms)
                    via_base.append(base_ms)
                    floors.append(floor_ms)
                    base_floors.append(base_floor)
            server_cpu = (cpu_ms(server.process.pid) - cpu_start[0]) / turns  # type: ignore[union-attr]
            base_cpu = (cpu_ms(base.process.pid) - cpu_start[1]) / turns if base else 0.0  # type: ignore[union-attr]
            await http.delete(f"/sessions/{session_id}")
            if base is not None:
                await base_http.delete(f"/sessions/{base_session}")
        await direct.disconnect()
        if mirrored is not None and registry is not None:
            await mirrored.disconnect()
            await registry.close()

    med_server, med_sdk = statistics.median(via_server), statistics.median(via_sdk)
    p95_server, p95_sdk = percentile(via_server, 0.95), percentile(via_sdk, 0.95)
    print(f"turns measured: {turns} each (after {warmup} warm-up), demo model, real CLI, server --isolation {isolation}")
    print(f"{'':14}{'median ms':>12}{'p95 ms':>10}")
    print(f"{'SDK direct':14}{med_sdk:12.1f}{p95_sdk:10.1f}")
    print(f"{'via server':14}{med_server:12.1f}{p95_server:10.1f}")
    print(f"ratio (server / SDK): median {med_server / med_sdk:.3f}x, p95 {p95_server / p95_sdk:.3f}x")
    print(f"added by the server: median {med_server - med_sdk:+.1f} ms")
    med_floor = statistics.median(floors)
    print(f"HTTP floor (GET /health on the same server, same client): median {med_floor:.2f} ms, p95 {percentile(floors, 0.95):.2f} ms")
    print(f"server process CPU per round (a turn and a /health, background work included): {server_cpu:.1f} ms")
    if baseline_src is not None:
        med_base = statistics.median(via_base)
        paired = statistics.median([s - b for s, b in zip(via_server, via_base, strict=True)])
        print(f"{'baseline srv':14}{med_base:12.1f}{percentile(via_base, 0.95):10.1f}   ({baseline_src})")
        print(
            f"server vs baseline server: median {med_server - med_base:+.1f} ms (median of rounds {paired:+.1f} ms); "
            f"baseline's HTTP floor {statistics.median(base_floors):.2f} ms, CPU per round {base_cpu:.1f} ms"
        )
    if mirror:
        med_mirror = statistics.median(via_mirror)
        pairs = statistics.median([m - d for m, d in zip(via_mirror, via_sdk, strict=True)])
        print(f"{'SDK + mirror':14}{med_mirror:12.1f}{percentile(via_mirror, 0.95):10.1f}")
        print(f"mirroring the transcript adds: median {med_mirror - med_sdk:+.1f} ms (median of rounds {pairs:+.1f} ms)")
        for index, part in enumerate(("this process (SDK, store)", "the client's CLI")):
            on, off = statistics.mean(c[index] for c in cpu_mirror), statistics.mean(c[index] for c in cpu_sdk)
            print(f"CPU per turn, {part}: {on:.1f} ms mirrored, {off:.1f} ms not ({on - off:+.1f} ms, whatever the load)")
    print(
        f"summary: turn via server {med_server:.1f} ms vs SDK direct {med_sdk:.1f} ms: {med_server - med_sdk:+.1f} ms, "
        f"{med_server / med_sdk:.3f}x; HTTP floor {med_floor:.2f} ms"
        + (f"; baseline server {statistics.median(via_base):.1f} ms" if baseline_src is not None else "")
        + f" (load average {load_before} -> {load_average()})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--isolation", choices=("none", "bwrap"), default="none",
        help="the server's sessions unsandboxed like the direct client's CLI (default), or each in bubblewrap "
        "with its model calls through the server's /upstream (the cost of the sandbox on a turn)",
    )
    parser.add_argument("--mirror", action="store_true", help="also a direct client whose transcript is mirrored into a registry")
    parser.add_argument(
        "--baseline-src", type=Path, metavar="DIR",
        help="also a server running another checkout's code (its src folder), in the same rounds",
    )
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.warmup, args.isolation, args.mirror, args.baseline_src))
