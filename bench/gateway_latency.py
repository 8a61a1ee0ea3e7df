"""Benchmark: the OpenAI-compatible gateway's three ways to serve a call, in one run.

Starts a demo server (scripted model, real Claude Code CLI) and, round after
round, sends through ``POST /v1/chat/completions`` (httpx, the client of the REST baseline too;
the ``openai`` SDK's own cost is not the server's, and ``tests/gateway/test_openai_sdk.py`` runs it):

* **continued**: the next turn of a conversation the server already holds (its
  live session is found by the history's hash and reused);
* **seeded**: a two-turn conversation the server never saw (a new session
  resumes a native transcript written from the history);
* **cold**: a first message (a new session, no history);
* **responses**: the next turn of a Responses-API conversation (``POST /v1/responses`` with
  ``previous_response_id``: its session is found by the response id and continued);
* **rest**: the baseline, the same kind of turn through ``POST /sessions/{id}/messages``
  in a session held over REST, in the same round (it, the continued and the responses turn take turns going first).

Prints median and p95 latency (ms) of each, the ratios to the continued turn, and what
the gateway adds to a continued turn over the REST turn (issue 17's goal: at most 5 ms), and a
continued Responses turn against a continued chat-completions turn.
The seeded and cold sessions are closed after each round (untimed), so every
round runs at the same number of live CLIs (their processes gone before the next round).

    uv run python bench/gateway_latency.py [--rounds 15]

Only 127.0.0.1 is contacted; the run is bounded by ``--rounds``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from servers import running_server  # noqa: E402


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(client: httpx.Client, messages: list[dict[str, Any]]) -> tuple[float, str, str]:
    """``(ms, reply, session id)`` of one non-streaming call."""
    start = time.perf_counter()
    raw = client.post("/v1/chat/completions", json={"model": "sonnet", "messages": messages})
    elapsed = (time.perf_counter() - start) * 1000
    assert raw.status_code == 200, raw.text
    return elapsed, raw.json()["choices"][0]["message"]["content"] or "", raw.headers["x-session-id"]


def timed_response(client: httpx.Client, text: str, previous: str | None) -> tuple[float, str, str]:
    """``(ms, response id, session id)`` of one non-streaming ``POST /v1/responses``."""
    start = time.perf_counter()
    raw = client.post("/v1/responses", json={"model": "sonnet", "input": text, "previous_response_id": previous})
    elapsed = (time.perf_counter() - start) * 1000
    assert raw.status_code == 200 and raw.json()["status"] == "completed", raw.text
    return elapsed, raw.json()["id"], raw.headers["x-session-id"]


def main(rounds: int, warmup: int) -> None:
    samples: dict[str, list[float]] = {"continued": [], "responses": [], "rest": [], "seeded": [], "cold": []}
    with tempfile.TemporaryDirectory() as root, running_server(Path(root), "--demo", env={"AGENT_SERVER_WARM_SESSIONS": "0"}) as server:
        http = client = server.client(timeout=120)
        conversation: list[dict[str, Any]] = [{"role": "user", "content": "remember that benchmarks are fun"}]
        _, reply, held = timed(client, conversation)
        rest_session = http.post("/sessions", json={}).json()["session_id"]
        _, response_id, responses_session = timed_response(client, "remember that responses are stateful", None)
        for n in range(warmup + rounds):
            nonce = uuid.uuid4().hex[:8]
            conversation += [{"role": "assistant", "content": reply}, {"role": "user", "content": f"remember that round {n} is {nonce}"}]
            kinds = ["continued", "rest", "responses"]
            for kind in kinds[n % 3 :] + kinds[: n % 3]:  # the three take turns going first (after the last round's closes)
                if kind == "continued":
                    continued_ms, reply, session_id = timed(client, conversation)
                    assert session_id == held, "the continued turn did not reuse its session"
                elif kind == "responses":
                    responses_ms, response_id, session_id = timed_response(client, f"remember that round {n} is {nonce}", response_id)
                    assert session_id == responses_session, "the Responses turn did not continue its session"
                else:
                    start = time.perf_counter()
                    answer = http.post(f"/sessions/{rest_session}/messages", json={"message": f"remember that round {n} is {nonce}"})
                    rest_ms = (time.perf_counter() - start) * 1000
                    assert answer.status_code == 200 and not answer.json()["is_error"], answer.text

            unseen = [
                {"role": "user", "content": f"remember that the seed is {nonce}"},
                {"role": "assistant", "content": f"Got it, I'll remember: the seed is {nonce}."},
                {"role": "user", "content": "what did I ask you to remember?"},
            ]
            seeded_ms, seeded_reply, seeded_id = timed(client, unseen)
            assert nonce in seeded_reply, "the seeded session did not see its history"

            cold_ms, _, cold_id = timed(client, [{"role": "user", "content": f"remember that cold is {nonce}"}])
            for closing in (seeded_id, cold_id):
                http.delete(f"/sessions/{closing}")
            deadline = time.monotonic() + 10  # their CLIs gone before the next round's timed turns
            while len(server.cli_processes()) > 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            if n >= warmup:
                samples["continued"].append(continued_ms)
                samples["responses"].append(responses_ms)
                samples["rest"].append(rest_ms)
                samples["seeded"].append(seeded_ms)
                samples["cold"].append(cold_ms)
        http.close()

    base, rest = statistics.median(samples["continued"]), statistics.median(samples["rest"])
    print(f"rounds measured: {rounds} (after {warmup} warm-up), demo model, real CLI, httpx")
    print(f"{'':12}{'median ms':>12}{'p95 ms':>10}{'vs continued':>15}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:12}{median:12.1f}{percentile(values, 0.95):10.1f}{median / base:14.1f}x")
    print(f"the gateway adds {base - rest:+.1f} ms to a continued turn over the same turn over REST "
          f"({base / rest:.2f}x)")
    print(f"a continued Responses turn takes {statistics.median(samples['responses']) - base:+.1f} ms over a continued "
          f"chat-completions turn ({statistics.median(samples['responses']) / base:.2f}x)")
    print(f"seeding adds {statistics.median(samples['seeded']) - base:+.1f} ms over a continued turn; "
          f"a cold start {statistics.median(samples['cold']) - base:+.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    main(args.rounds, args.warmup)
