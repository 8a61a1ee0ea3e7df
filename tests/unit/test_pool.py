"""The warm pool: hits, misses, refills, model and mode on a warm client, the cap, and no trace when unused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from claude_agent_server.sessions import SessionRequest, SessionManager
from fakes import FakeClients

MakeManager = Callable[..., Awaitable[SessionManager]]


async def settle(predicate: Callable[[], Any], timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def warm(make_manager: MakeManager, **config: object) -> SessionManager:
    manager = await make_manager(warm_sessions=1, **config)
    await settle(lambda: manager.warm_count == 1)
    return manager


async def test_a_default_session_takes_the_warm_client_and_the_pool_refills(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await warm(make_manager)
    warm_id = clients.last.options.session_id
    assert await manager.list() == [] and manager.live_count == 1  # held, but nobody's session yet
    session = await manager.create()
    assert session.id == warm_id and clients.clients[0].queries == []
    await settle(lambda: manager.warm_count == 1)
    assert len(clients.clients) == 2 and clients.last.options.session_id != warm_id
    assert [e["session_id"] for e in await manager.list()] == [warm_id]
    reply = await session.send("hello")
    assert reply.type == "turn_started"


async def test_model_and_mode_are_applied_to_a_warm_client(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await warm(make_manager, default_model="m0")
    warm_client = clients.last
    session = await manager.create(SessionRequest(model="other", permission_mode="plan"))
    assert session.id == warm_client.options.session_id
    assert warm_client.models == ["other"] and warm_client.modes == ["plan"]
    [entry] = await manager.list()
    assert (entry["model"], entry["permission_mode"]) == ("other", "plan")


async def test_other_specs_start_a_cli_of_their_own(tmp_path: Path, make_manager: MakeManager, clients: FakeClients) -> None:
    (tmp_path / "sub").mkdir()
    manager = await warm(make_manager)
    warm_id = clients.last.options.session_id
    for request in ({"cwd": "sub"}, {"system_prompt": "x"}, {"allowed_tools": ["Read"]}, {"max_turns": 2}, {"enable_proxy": True}):
        assert (await manager.create(SessionRequest(**request))).id != warm_id, request
    assert manager.warm_count == 1 and (await manager.create(SessionRequest(cwd=str(tmp_path)))).id == warm_id  # the root, spelled out


async def test_warm_clients_hold_slots_and_go_first_at_the_cap(tmp_path: Path, make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await warm(make_manager, max_live_sessions=2)
    warm_client = clients.last
    first = await manager.create(SessionRequest(system_prompt="cold"))
    assert manager.live_count == 2
    second = await manager.create(SessionRequest(system_prompt="also cold"))
    assert warm_client.disconnected and first.status == "connected" and second.status == "connected"
    assert manager.warm_count == 0 and manager.live_count == 2  # no room left to refill


async def test_a_refused_model_falls_back_to_a_cold_start(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await warm(make_manager)
    warm_client = clients.last

    async def refuse(model: object) -> None:
        raise Exception("unknown model")

    warm_client.set_model = refuse  # type: ignore[method-assign]
    session = await manager.create(SessionRequest(model="nope"))
    assert session.id != warm_client.options.session_id and clients.last.options.model == "nope"
    await settle(lambda: warm_client.disconnected)


async def test_an_unused_warm_client_leaves_nothing_behind(make_manager: MakeManager, clients: FakeClients) -> None:
    manager = await warm(make_manager)
    warm_id = clients.last.options.session_id
    await manager.shutdown(0)
    assert clients.last.disconnected and manager.live_count == 0
    assert await manager.registry.get(warm_id) is None
    assert await manager.registry.events(session_id=warm_id, after=0) == []
