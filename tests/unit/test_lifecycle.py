"""A session's lifecycle: the phase it is in through start, hibernation, a failed wake and close,
and the status each phase shows."""

from __future__ import annotations

import pytest

from claude_agent_server.sessions import SessionManager, SessionStartError
from claude_agent_server.sessions.lifecycle import MOVES, Phase, status_of
from fakes import FakeClients


def test_every_phase_has_its_moves_and_only_closing_reaches_closed() -> None:
    assert set(MOVES) == set(Phase)
    assert [p for p, moves in MOVES.items() if Phase.CLOSED in moves] == [Phase.CLOSING]
    assert all(Phase.CLOSING in moves for p, moves in MOVES.items() if p not in (Phase.CLOSING, Phase.CLOSED))


@pytest.mark.parametrize(
    ("phase", "process", "waiting", "running", "status"),
    [
        (Phase.STARTING, "connecting", False, False, "connecting"),
        (Phase.WAKING, "connecting", False, False, "waking"),
        (Phase.LIVE, "connected", False, False, "connected"),
        (Phase.LIVE, "connected", False, True, "running"),
        (Phase.LIVE, "connected", True, True, "waiting_permission"),
        (Phase.STOPPING, "connected", False, False, "connected"),
        (Phase.HIBERNATED, "none", False, False, "hibernated"),
        (Phase.CLOSING, "none", False, False, "hibernated"),
        (Phase.CLOSING, "connecting", False, False, "connecting"),
        (Phase.CLOSED, "none", False, False, "closed"),
    ],
)
def test_the_status_of_each_phase(phase: Phase, process: str, waiting: bool, running: bool, status: str) -> None:
    assert status_of(phase, process=process, waiting=waiting, turn_running=running) == status  # type: ignore[arg-type]


async def test_phases_through_a_life(manager: SessionManager, clients: FakeClients) -> None:
    session = await manager.create()
    assert session.phase is Phase.LIVE
    await session.hibernate()
    assert session.phase is Phase.HIBERNATED
    await session.server_info()  # wakes it
    assert session.phase is Phase.LIVE
    closing = session.begin_close()
    assert session.phase is Phase.CLOSING and session.closing
    await closing
    assert session.phase is Phase.CLOSED and session.status == "closed" and clients.last.disconnected


async def test_a_failed_wake_leaves_the_session_hibernated(manager: SessionManager, clients: FakeClients) -> None:
    session = await manager.create()
    await session.hibernate()
    clients.fail_connect = "no such model"
    with pytest.raises(SessionStartError):
        await session.server_info()
    assert session.phase is Phase.HIBERNATED and session.status == "hibernated" and len(manager) == 0
    await manager.registry.flush()
    statuses = [e.data["status"] for e in await manager.registry.events(session_id=session.id, after=0) if e.type == "status"]
    assert statuses[-2:] == ["waking", "hibernated"]
    [entry] = await manager.list()
    assert entry["status"] == "hibernated"
    clients.fail_connect = None
    await session.server_info()
    assert session.phase is Phase.LIVE
