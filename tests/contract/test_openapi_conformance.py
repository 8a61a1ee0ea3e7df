"""The OpenAPI document tells the truth: schemathesis (its CLI, every check) runs against the
real app on a real socket (scripted SDK clients, no CLI process) and must find nothing — no
5xx, no status the document does not list, no schema-valid input refused, no response
outside its schema, no wrong ``Allow`` on a 405.

Bounded: 10 examples per operation, deterministic generation, a 10 s request timeout; the
whole run takes about a minute here. The endless SSE subscriptions (``/events``,
``/sessions/{id}/events``, OpenCode's ``/event`` and ``/global/event``) are left out: a
subscription never ends, so no response to it is ever complete (tests/api and tests/opencode
cover them). The few statuses that depend on the server's state rather than on the input
are listed per operation in ``schemathesis.toml`` beside this file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from contract.live_app import live_app

HERE = Path(__file__).resolve().parent
STREAMS = r"(^|/)events?$"
RUN_SECONDS = 170


def test_the_openapi_document_holds_for_every_operation(tmp_path: Path) -> None:
    with live_app(tmp_path) as url:
        run = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"), "run",
                f"{url}/openapi.json", "--checks", "all", "--max-examples", "10", "--generation-deterministic",
                "--generation-codec", "utf-8", "--request-timeout", "10", "--exclude-path-regex", STREAMS,
                "--no-color", "--max-time", str(RUN_SECONDS - 20),
            ],
            capture_output=True, text=True, timeout=RUN_SECONDS, env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"},
        )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "Operations:" in run.stdout and "0 selected" not in run.stdout
