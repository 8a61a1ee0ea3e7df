"""``bench/gateway_latency.py`` runs end to end for one round (a smoke test; its figures are not judged here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_the_gateway_benchmark_runs_one_round(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    command = [sys.executable, str(ROOT / "bench" / "gateway_latency.py"), "--rounds", "1", "--warmup", "0"]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    for line in ("continued", "rest", "seeded", "cold", "the gateway adds", "seeding adds"):
        assert line in run.stdout, run.stdout
