"""Benchmark: what mirroring transcripts into the registry (``SqlTranscriptStore``) costs a turn.

Two parts, on SQLite (a file) and PostgreSQL (a fresh database on 127.0.0.1:5432):

1. ``append`` alone: a session grows by one typical turn at a time (4 lines:
   two queue operations, the user's message, the assistant's reply), timed per
   call; then one ``load`` of the whole transcript.
2. Whole turns through a warm ``ClaudeSDKClient`` (real CLI, the demo model of a
   demo server), round-robin over five clients so all see the same machine load:
   no store, then ``session_store_flush`` "batched" and "eager", each with a store
   that writes in ``append`` (direct) and with the registry's (write-behind).
   Prints median and p95 turn latency (ms), the difference to no store, the
   appends per turn, the milliseconds spent in them, and the milliseconds the
   SDK held each turn's ``result`` back while it flushed its mirror (the turn's
   cost: the flush at ``result`` waits for every append still running).

    uv run python bench/transcript_store.py [--turns 40] [--appends 200] [--databases sqlite,postgresql]

Only 127.0.0.1 is contacted; the run is bounded by ``--turns``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient, ResultMessage, SessionStore
from claude_agent_sdk._internal.transcript_mirror_batcher import TranscriptMirrorBatcher

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from databases import postgres_database  # noqa: E402
from servers import SCRUBBED_PREFIXES, running_server  # noqa: E402

from claude_agent_server.store import SqlRegistry, SqlTranscriptStore, WriteBehindStore, default_database_url  # noqa: E402
from claude_agent_server.store.engine import make_engine  # noqa: E402

PROMPT = "remember that benchmarks are fun"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def typical_turn(session_id: str, n: int) -> list[dict[str, Any]]:
    """Four lines shaped like a short turn's (about 2.5 KB of JSON)."""
    stamp = "2026-12-06T02:16:07.613Z"
    common = {"sessionId": session_id, "timestamp": stamp, "cwd": "/work/project", "isSidechain": False, "version": "2.1.330"}
    user = {"role": "user", "content": f"{PROMPT} ({n})"}
    reply = {"role": "assistant", "content": [{"type": "text", "text": "Got it. " * 60}], "usage": {"input_tokens": 2579}}
    return [
        {"type": "queue-operation", "operation": "enqueue", "timestamp": stamp, "sessionId": session_id, "content": PROMPT},
        {"type": "queue-operation", "operation": "dequeue", "timestamp": stamp, "sessionId": session_id},
        {"type": "user", "uuid": str(uuid.uuid4()), "parentUuid": None, "message": user, **common},
        {"type": "assistant", "uuid": str(uuid.uuid4()), "parentUuid": None, "message": reply, **common},
    ]


class HeldBack:
    """Times the SDK's mirror flush at each ``result`` (``TranscriptMirrorBatcher.flush``), per store."""

    def __init__(self) -> None:
        self.seconds: dict[int, float] = {}
        self._flush = TranscriptMirrorBatcher.flush
        held = self

        async def flush(batcher: TranscriptMirrorBatcher) -> None:
            start = time.perf_counter()
            try:
                await held._flush(batcher)
            finally:
                key = id(batcher.store)
                held.seconds[key] = held.seconds.get(key, 0.0) + time.perf_counter() - start

        TranscriptMirrorBatcher.flush = flush  # type: ignore[method-assign]

    def restore(self) -> None:
        TranscriptMirrorBatcher.flush = self._flush  # type: ignore[method-assign]


class CountingStore(SessionStore):
    """A store passing ``append`` and ``load`` on to another, counting appends and the seconds spent in them."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.calls = 0
        self.seconds = 0.0

    async def append(self, key: Any, entries: list[Any]) -> None:
        start = time.perf_counter()
        try:
            await self.inner.append(key, entries)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - start

    async def load(self, key: Any) -> Any:
        return await self.inner.load(key)


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as root:
            yield default_database_url(Path(root))
    else:
        async with postgres_database() as url:
            yield url


async def append_cost(url: str, turns: int) -> None:
    registry = await SqlRegistry.open(url)  # migrates; its own store writes behind
    engine = make_engine(url)
    try:
        for name, store in (("direct", SqlTranscriptStore(engine)), ("write-behind", registry.transcripts)):
            session_id = str(uuid.uuid4())
            key = {"project_key": "-work-project", "session_id": session_id}
            samples = []
            for n in range(turns):
                entries = typical_turn(session_id, n)
                start = time.perf_counter()
                await store.append(key, entries)
                samples.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            if isinstance(store, WriteBehindStore):
                await store.flush()
            flush_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            loaded = await store.load(key)
            load_ms = (time.perf_counter() - start) * 1000
            assert loaded is not None and len(loaded) == 4 * turns
            median, p95 = statistics.median(samples), percentile(samples, 0.95)
            print(f"  {name}: append of one typical turn (4 lines) median {median:.3f} ms, p95 {p95:.3f} ms", end="")
            print(f"; then flush {flush_ms:.1f} ms; load of all {4 * turns} lines {load_ms:.1f} ms")
    finally:
        await engine.dispose()
        await registry.close()


async def turn_cost(url: str, server: Any, turns: int, warmup: int) -> None:
    registry = await SqlRegistry.open(url)
    direct_engine = make_engine(url)
    direct = SqlTranscriptStore(direct_engine)
    stores = {
        f"{flush} {kind}": CountingStore(inner)
        for flush in ("batched", "eager")
        for kind, inner in (("direct", direct), ("behind", registry.transcripts))
    }
    env = {"ANTHROPIC_BASE_URL": f"{server.url}/demo", "ANTHROPIC_API_KEY": "demo-key"}
    env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
    clients: dict[str, ClaudeSDKClient] = {}
    for mode in ("none", *stores):
        extra: dict[str, Any] = {}
        if mode != "none":
            extra = {"session_store": stores[mode], "session_store_flush": mode.split()[0]}
        options = ClaudeAgentOptions(cwd=str(server.workspace), include_partial_messages=True, env=env, **extra)
        clients[mode] = ClaudeSDKClient(options)
        await clients[mode].connect()
    samples: dict[str, list[float]] = {mode: [] for mode in clients}
    held = HeldBack()
    try:
        for n in range(warmup + turns):
            if n == warmup:
                held.seconds.clear()
                for store in stores.values():
                    store.calls, store.seconds = 0, 0.0
            for mode, client in clients.items():
                start = time.perf_counter()
                await client.query(PROMPT)
                async for message in client.receive_response():
                    if isinstance(message, ResultMessage):
                        assert not message.is_error
                if n >= warmup:
                    samples[mode].append((time.perf_counter() - start) * 1000)
    finally:
        held.restore()
        for client in clients.values():
            await client.disconnect()
        await registry.close()
        await direct_engine.dispose()
    base = statistics.median(samples["none"])
    heads = f"{'median ms':>11}{'p95 ms':>9}{'vs none':>10}{'appends/turn':>14}{'ms in appends':>15}{'ms result held':>16}"
    print(f"  {'':16}{heads}")
    for mode, values in samples.items():
        store = stores.get(mode)
        calls = f"{store.calls / turns:.1f}" if store else "-"
        spent = f"{store.seconds * 1000 / turns:.2f}" if store else "-"
        waited = f"{held.seconds.get(id(store), 0.0) * 1000 / turns:.2f}" if store else "-"
        median = statistics.median(values)
        print(f"  {mode:16}{median:11.1f}{percentile(values, 0.95):9.1f}{median - base:+10.1f}{calls:>14}{spent:>15}{waited:>16}")


async def main(turns: int, warmup: int, appends: int, kinds: list[str]) -> None:
    with tempfile.TemporaryDirectory() as root, running_server(Path(root), "--demo") as server:
        for name in list(os.environ):
            if name.startswith(SCRUBBED_PREFIXES):
                del os.environ[name]
        os.environ.update(HOME=str(server.home), IS_SANDBOX="1")
        for kind in kinds:
            async with database(kind) as url:
                print(f"{kind}:")
                await append_cost(url, appends)
            async with database(kind) as url:
                await turn_cost(url, server, turns, warmup)
    print(f"turns measured: {turns} per client (after {warmup} warm-up), demo model, real CLI")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--appends", type=int, default=200, help="typical turns appended in part 1")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.warmup, args.appends, args.databases.split(",")))
