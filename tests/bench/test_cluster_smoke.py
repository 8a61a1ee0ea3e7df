"""``bench/cluster.py`` runs end to end with two nodes and a few turns (a smoke test; its figures are not judged here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_the_cluster_benchmark_runs(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    command = [sys.executable, str(ROOT / "bench" / "cluster.py"), "--turns", "2", "--wakes", "1", "--seconds", "2", "--nodes", "1"]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    for line in ("turn via owner node", "forwarding adds", "other node's CPU per turn", "wake on another node", "turns/s with 1 node"):
        assert line in run.stdout, run.stdout
