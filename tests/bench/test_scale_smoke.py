"""``bench/scale.py --quick`` runs end to end (a smoke test; its figures are not judged here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_the_scale_benchmark_runs_in_quick_mode(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "scale.py"), "--quick"], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    for line in ("POST /sessions warm p50", "hibernated session, loaded", "wake p50", "loaded p50 / p99", "GET /sessions (page of 50)",
                 "POST /sessions cold p50, none"):
        assert line in run.stdout, run.stdout
