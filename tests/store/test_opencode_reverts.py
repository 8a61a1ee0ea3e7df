"""OpenCode's pending reverts and removed turns as two nodes see them through one registry:
what one node files, the other reads on its next request (no per-node cache)."""

from __future__ import annotations

from pathlib import Path

from claude_agent_server.opencode.revert import Revert, Reverts
from store.conftest import OpenRegistry

SESSION = "6986b07d-5f37-495e-adec-105522248f1a"


async def test_a_revert_filed_on_one_node_is_seen_on_another(open_registry: OpenRegistry, tmp_path: Path) -> None:
    node_a = Reverts(await open_registry(), tmp_path / "a")
    node_b = Reverts(await open_registry(), tmp_path / "b")
    assert await node_b.pending(SESSION) is None and await node_b.hidden(SESSION) == []  # B has looked once

    revert = Revert(start=7, message_id="msg_1", part_id=None, snapshot=None, prompt="u-1")
    await node_a.set_pending(SESSION, revert)
    await node_a.hide(SESSION, 3, 5)
    assert await node_b.pending(SESSION) == revert
    assert await node_b.hidden(SESSION) == [(3, 5)]

    await node_b.set_pending(SESSION, None)  # B commits or undoes it
    assert await node_a.pending(SESSION) is None


def test_a_stash_diff_belongs_to_its_snapshot(tmp_path: Path) -> None:
    """A node answers a revert's diff only from the stash that revert made (its snapshot token)."""
    reverts = Reverts(None, tmp_path / "stash")  # type: ignore[arg-type]  # the stash needs no registry
    target = tmp_path / "f.txt"
    target.write_text("before\n")
    token, _ = reverts.stash(SESSION, [str(target)])
    reverts.set_diff(SESSION, "-before\n+after\n")
    assert reverts.diff(SESSION, token) == "-before\n+after\n"
    assert reverts.diff(SESSION, "another-snapshot") is None
