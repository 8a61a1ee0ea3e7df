"""The real app, served by uvicorn on 127.0.0.1 in a thread, with scripted SDK clients
(:mod:`fakes`) so no Claude Code CLI runs: what the conformance tests call.

Run as a script to serve it until Ctrl-C (``python tests/contract/live_app.py PORT``), e.g.
to point ``st run`` at it by hand.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fakes import FakeClients  # noqa: E402
from servers import free_port, serving  # noqa: E402

from claude_agent_server.app import create_app  # noqa: E402
from claude_agent_server.settings import Settings  # noqa: E402


@contextmanager
def live_app(root: Path, port: int | None = None, api_key: str | None = None) -> Iterator[str]:
    """Serve the app (loopback, demo model on, no warm pool; the API key given, if any) under ``root``; yield its URL."""
    port = port or free_port()
    workspace = root / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    settings = Settings(workspace=workspace, data_dir=root / "data", port=port, warm_sessions=0, demo=True, api_key=api_key)
    app = create_app(settings, client_factory=FakeClients())
    with serving(app, port, "agent-server", lifespan="on", timeout=30):
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/health").status_code == 200
        yield url


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp, live_app(Path(tmp), int(sys.argv[1]) if len(sys.argv) > 1 else None) as url:
        print(url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
