"""Client fixtures: the client driven in a real pseudo-terminal (the demo server and workdir: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from client.client_pty import Terminal



@pytest.fixture
def terminal(tmp_path: Path, hermetic: Path) -> Iterator[Callable[..., Terminal]]:
    """Factory: ``terminal(*args)`` starts the client in a pty; all are closed afterwards."""
    started: list[Terminal] = []

    def start(*args: str) -> Terminal:
        term = Terminal(list(args), hermetic, tmp_path / f"pty-{len(started)}.log")
        started.append(term)
        return term

    yield start
    for term in started:
        term.close()
