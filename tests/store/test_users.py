"""Users, keys (hash only, revocation, expiry), the audit log and per-user spend, on both dialects."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from claude_agent_server.store import RegistryUnavailable, SessionRecord, utcnow
from claude_agent_server.store.tables import api_keys
from claude_agent_server.store.users import UserError, key_id_of, parse_duration
from sqlalchemy import select


async def test_keys_are_shown_once_stored_as_hashes_and_revoked_at_once(registry) -> None:
    users = registry.users
    await users.add_user("ann", "member")
    row, key = await users.create_key("ann", "laptop")
    assert key_id_of(key) == row.key_id
    stored = await registry._run(lambda conn: conn.execute(select(api_keys)).all())
    assert [r.key_hash for r in stored] != [key] and key not in repr(stored)
    user, found = await users.authenticate(key)
    assert (user.name, user.role, found.key_id, found.name) == ("ann", "member", row.key_id, "laptop")
    assert (await users.list_keys("ann"))[0].last_used_at is not None
    assert await users.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    await users.revoke_key(row.key_id)
    assert await users.authenticate(key) is None
    with pytest.raises(UserError):
        await users.revoke_key("000000000000")


async def test_expired_keys_fail_and_users_change(registry) -> None:
    users = registry.users
    await users.add_user("bob", "viewer")
    with pytest.raises(UserError):
        await users.add_user("bob", "viewer")
    with pytest.raises(UserError):
        await users.add_user("eve", "root")
    _, key = await users.create_key("bob", expires_at=utcnow() - timedelta(seconds=1))
    assert await users.authenticate(key) is None
    changed = await users.set_user("bob", role="member", daily_usd=1.5)
    assert (changed.role, changed.daily_usd, changed.monthly_usd) == ("member", 1.5, None)
    assert [u.name for u in await users.list_users()] == ["bob"]
    assert parse_duration("30d") == timedelta(days=30)


async def test_audit_rows_page_newest_first_and_spend_is_per_owner(registry) -> None:
    for n in range(3):
        await registry.audit.record(action=f"a{n}", method="POST", path="/sessions", status=201, user_name="ann",
                                    key_id="k", client="127.0.0.1", session_id=None)
    page = await registry.audit.entries(limit=2)
    assert [e.action for e in page] == ["a2", "a1"]
    assert [e.action for e in await registry.audit.entries(before=page[-1].id)] == ["a0"]
    assert await registry.audit.entries(user="bob") == []

    from claude_agent_server.store import EventRecord

    await registry.put(SessionRecord("s-ann", {}, owner="ann"))
    await registry.put(SessionRecord("s-bob", {}, owner="bob"))
    now = utcnow().isoformat()
    registry.append(EventRecord(1, "s-ann", "result", {"turn_cost_usd": 0.25}, now))
    registry.append(EventRecord(2, "s-ann", "result", {"turn_cost_usd": 0.5}, now))
    registry.append(EventRecord(3, "s-bob", "result", {"turn_cost_usd": 1.0}, now))
    await registry.flush()
    day = utcnow() - timedelta(days=1)
    assert await registry.audit.spent_since("ann", day) == pytest.approx(0.75)
    assert await registry.audit.spend_by_user(day) == pytest.approx({"ann": 0.75, "bob": 1.0})
    assert [s for s, _ in await registry.audit.spend_by_session("ann", day)] == ["s-ann"]
    assert [r.session_id for r in await registry.list(owner="bob")] == ["s-bob"]


async def test_an_audit_insert_retried_after_its_commit_writes_each_row_once(registry, monkeypatch) -> None:
    """The connection breaks after the commit (its acknowledgement is lost): the queue retries the
    insert, which skips the rows already there."""
    write, broken = registry.audit._write_rows, []

    async def commit_then_break(work):
        await write(work)
        if not broken:
            broken.append(True)
            raise ConnectionResetError("the connection broke after the commit")

    monkeypatch.setattr(registry.audit, "_write_rows", commit_then_break)
    for n in range(3):
        await registry.audit.record(action=f"a{n}", method="POST", path="/sessions", status=201, user_name="ann",
                                    key_id="k", client="127.0.0.1", session_id=None)
    async with asyncio.timeout(10):
        while True:
            with contextlib.suppress(RegistryUnavailable):
                entries = await registry.audit.entries()
                break
            await asyncio.sleep(0.05)
    assert broken and sorted(e.action for e in entries) == ["a0", "a1", "a2"]
