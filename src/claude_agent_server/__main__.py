"""``claude-agent-server`` and ``python -m claude_agent_server``: hide the secrets, then run the server.

The re-execution that keeps the API key out of ``/proc/<pid>/environ`` (:mod:`.reexec`)
happens here, before the server's modules are imported, so it costs one interpreter
start rather than a second import of FastAPI, uvicorn, the SDK and LiteLLM's neighbours.
"""

from __future__ import annotations

import sys

from .reexec import hide_secrets


def main() -> int:
    """Re-execute without secrets if there are any (same pid), then :func:`.cli.main`."""
    hide_secrets()
    from .cli import main as serve

    return serve()


if __name__ == "__main__":
    sys.exit(main())
