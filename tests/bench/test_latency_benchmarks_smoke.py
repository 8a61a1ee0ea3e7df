"""The latency benchmarks run end to end for a few turns or requests (smoke tests; their
figures are not judged here: benchmarks print ratios, they are not timed tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "arguments", "lines"),
    [
        ("turn_overhead.py", ["--turns", "2"], ["SDK direct", "via server", "ratio (server / SDK)", "added by the server", "summary: turn via server", "load average", "HTTP floor"]),
        ("proxy_overhead.py", ["--requests", "3"], ["non-stream", "stream", "server/direct+router", "summary: non-stream via server", "; stream via server", "load average", "HTTP floor"]),
        # A second server from a checkout's src in the same rounds (this one's own, as a smoke test).
        ("turn_overhead.py", ["--turns", "2", "--baseline-src", str(ROOT / "src")], ["baseline srv", "server vs baseline server", "CPU per round", "; baseline server"]),
        ("proxy_overhead.py", ["--requests", "3", "--baseline-src", str(ROOT / "src")], ["baseline", "CPU per round", ", baseline server"]),
        ("turn_overhead.py", ["--turns", "2", "--mirror"], ["SDK direct", "SDK + mirror", "mirroring the transcript adds", "CPU per turn, the client's CLI"]),
        ("gateway_latency.py", ["--rounds", "1"], ["continued", "responses", "rest", "seeded", "cold", "the gateway adds", "a continued Responses turn", "seeding adds"]),
    ],
)
def test_a_benchmark_runs_and_reports(script: str, arguments: list[str], lines: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    command = [sys.executable, str(ROOT / "bench" / script), *arguments, "--warmup", "0"]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    for line in lines:
        assert line in run.stdout, run.stdout
