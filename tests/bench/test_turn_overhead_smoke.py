"""``bench/turn_overhead.py`` runs end to end for two turns (a smoke test; its figures are not judged here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_the_turn_benchmark_runs_two_turns(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    command = [sys.executable, str(ROOT / "bench" / "turn_overhead.py"), "--turns", "2", "--warmup", "0"]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    for line in ("SDK direct", "via server", "ratio (server / SDK)", "added by the server"):
        assert line in run.stdout, run.stdout
