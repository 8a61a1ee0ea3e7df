"""What the server's ``/v1/messages`` adds on top of calling LiteLLM directly.

One run, three processes on 127.0.0.1, nothing else:

* the scripted OpenAI-compatible upstream of the tests (``tests/proxy/upstream.py``), in its own process;
* the real ``claude-agent-server`` with a LiteLLM config naming that upstream;
* this process, which takes turns with three clients of the same upstream:
  ``direct``, ``litellm.anthropic.messages.acreate`` as a LiteLLM user calls it;
  ``direct+router``, the same call with the keyword arguments the server adds
  (``litellm_router``: the server passes its Router, which spares LiteLLM a failing
  ``litellm.proxy`` import on every call); ``server``, the server's Anthropic
  Messages API over HTTP (httpx).

Prints the median latency of each (non-stream, and stream read to the end),
the ratios and the milliseconds the server adds, and a one-line ``summary:`` with the
machine's load average before and after (the figures are only comparable at a similar load). ``server/direct+router`` is the
server's own cost (HTTP hop, validation, routing); ``server/direct`` is what a
LiteLLM user would see switching to the server.

``floor`` takes turns too: ``GET /health`` on the same server with the same httpx client, the
loopback HTTP round trip (httpx, uvicorn, the middlewares, a trivial route) that every request
through the server pays and a direct LiteLLM call does not.

With ``--baseline-src DIR``, a second server runs the code of another checkout (``DIR`` is its
``src`` folder, put first on that server's ``PYTHONPATH``) and takes turns as ``baseline``: a
paired A/B of two versions of the server on the same load.

Usage: ``uv run python bench/proxy_overhead.py [--requests 200] [--warmup 20] [--baseline-src DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "proxy")]

from servers import clean_env, free_port, running_server  # noqa: E402

MODEL = "scripted"
UPSTREAM_MODEL = "hosted_vllm/bench-model"
MESSAGES = [{"role": "user", "content": "hello, how are you today?"}]


def start_upstream(port: int, home: Path) -> subprocess.Popen[bytes]:
    """The scripted upstream in its own uvicorn process (so it does not share this process's GIL)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "upstream:create_app", "--app-dir", str(ROOT / "tests" / "proxy"),
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=clean_env(home),
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the scripted upstream did not start")


async def timed(call: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


async def measure(
    server_url: str, api_base: str, requests: int, warmup: int, base_url: str | None = None, pids: tuple[int, ...] = ()
) -> dict[str, dict[str, float]]:
    """Median milliseconds per mode (non-stream, stream) and client (direct, direct+router, server,
    floor; baseline with ``base_url``), and the CPU ms per round of the servers' processes ``pids``
    (``server_cpu``, ``baseline_cpu``)."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    litellm.suppress_debug_info = True
    params = {"model": UPSTREAM_MODEL, "api_base": api_base, "api_key": "bench"}
    # The server passes its Router along (as LiteLLM's own proxy does); without one, LiteLLM
    # retries a failing ``litellm.proxy`` import on every call. "direct+router" does the same.
    router = litellm.Router(model_list=[{"model_name": MODEL, "litellm_params": params}])
    results: dict[str, dict[str, float]] = {}
    async with (
        httpx.AsyncClient(base_url=server_url, timeout=60) as http,
        httpx.AsyncClient(base_url=base_url or server_url, timeout=60) as base_http,
    ):
        for stream in (False, True):

            def direct(**extra: object) -> Callable[[], Awaitable[None]]:
                async def call() -> None:
                    reply = await litellm.anthropic.messages.acreate(
                        max_tokens=256, messages=MESSAGES, stream=stream, **params, **extra
                    )
                    if stream:
                        async for _ in reply:
                            pass

                return call

            def server(client: httpx.AsyncClient) -> Callable[[], Awaitable[None]]:
                async def call() -> None:
                    body = {"model": MODEL, "max_tokens": 256, "messages": MESSAGES, "stream": stream}
                    async with client.stream("POST", "/v1/messages", json=body) as reply:
                        assert reply.status_code == 200, await reply.aread()
                        async for _ in reply.aiter_raw():
                            pass

                return call

            def floor(client: httpx.AsyncClient) -> Callable[[], Awaitable[None]]:
                async def call() -> None:
                    reply = await client.get("/health")
                    assert reply.status_code == 200, reply.text

                return call

            clients = [
                ("direct", direct()), ("direct+router", direct(litellm_router=router)), ("server", server(http)), ("floor", floor(http)),
            ]
            if base_url is not None:  # the same work on both servers: a request and a /health per round
                clients += [("baseline", server(base_http)), ("baseline floor", floor(base_http))]
            times: dict[str, list[float]] = {name: [] for name, _ in clients}
            cpu_start = [cpu_ms(pid) for pid in pids]
            order = random.Random(0)
            for n in range(warmup + requests):
                if n == warmup:
                    cpu_start = [cpu_ms(pid) for pid in pids]
                # A new order each round: drift hits every client alike, and none always follows the same
                # one (a rotation kept "server" right after "direct+router", whose LiteLLM call leaves
                # work behind in this process: observed once, 12.49 vs 10.64 ms for servers of equal CPU).
                for name, call in order.sample(clients, len(clients)):
                    elapsed = await timed(call)
                    if n >= warmup:
                        times[name].append(elapsed)
            result = {name: statistics.median(t) for name, t in times.items()}
            for name, pid, start in zip(("server_cpu", "baseline_cpu"), pids, cpu_start, strict=False):
                result[name] = (cpu_ms(pid) - start) / requests
            results["stream" if stream else "non-stream"] = result
    return results


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in ms (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages now, as ``uptime`` shows them."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests per client and mode (max 2000)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first (max 200)")
    parser.add_argument(
        "--baseline-src", type=Path, metavar="DIR",
        help="also a server running another checkout's code (its src folder), taking turns with the others",
    )
    args = parser.parse_args()
    requests, warmup = min(max(args.requests, 1), 2000), min(max(args.warmup, 0), 200)
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="proxy-bench-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        port = free_port()
        api_base = f"http://127.0.0.1:{port}/v1"
        upstream = start_upstream(port, root / "home")
        try:
            config = root / "litellm.yaml"
            config.write_text(
                f"model_list:\n  - model_name: {MODEL}\n    litellm_params:\n"
                f"      model: {UPSTREAM_MODEL}\n      api_base: {api_base}\n      api_key: bench\n"
            )
            with contextlib.ExitStack() as stack:
                server = stack.enter_context(running_server(root, "--litellm-config", str(config), "--log-level", "warning"))
                base = None
                if args.baseline_src is not None:
                    base = stack.enter_context(running_server(
                        root / "base", "--litellm-config", str(config), "--log-level", "warning",
                        env={"PYTHONPATH": str(args.baseline_src)},
                    ))
                pids = tuple(s.process.pid for s in (server, base) if s is not None and s.process is not None)
                results = asyncio.run(measure(server.url, api_base, requests, warmup, base.url if base else None, pids))
        finally:
            upstream.terminate()
            upstream.wait(timeout=10)
    print(f"/v1/messages overhead: {requests} requests per client and mode after {warmup} warm-up; medians in ms")
    print(
        f"{'mode':<11} {'direct':>8} {'direct+router':>14} {'server':>8}   {'server/direct':>13} {'server/direct+router':>21}"
        f" {'HTTP floor':>11}" + (f" {'baseline':>9}" if args.baseline_src else "")
    )
    for mode, m in results.items():
        print(
            f"{mode:<11} {m['direct']:>8.2f} {m['direct+router']:>14.2f} {m['server']:>8.2f}"
            f"   {m['server'] / m['direct']:>5.2f}x {m['server'] - m['direct']:>+6.2f}"
            f"   {m['server'] / m['direct+router']:>9.2f}x {m['server'] - m['direct+router']:>+6.2f} ms"
            f" {m['floor']:>8.2f} ms" + (f" {m['baseline']:>6.2f} ms (floor {m['baseline floor']:.2f})" if "baseline" in m else "")
        )
    print("HTTP floor: GET /health on the same server with the same client (the loopback hop the direct calls do not make)")
    for mode, m in results.items():
        print(
            f"server process CPU per round ({mode} request and a /health): {m['server_cpu']:.2f} ms"
            + (f", baseline {m['baseline_cpu']:.2f} ms" if "baseline_cpu" in m else "")
        )
    if args.baseline_src:
        print(f"baseline: a server running {args.baseline_src}, in the same rounds")
    print(
        "summary: " + "; ".join(
            f"{mode} via server {m['server']:.2f} ms vs LiteLLM with the same Router {m['direct+router']:.2f} ms: "
            f"{m['server'] - m['direct+router']:+.2f} ms, {m['server'] / m['direct+router']:.2f}x, HTTP floor {m['floor']:.2f} ms"
            + (f", baseline server {m['baseline']:.2f} ms" if "baseline" in m else "")
            for mode, m in results.items()
        ) + f" (load average {load_before} -> {load_average()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
