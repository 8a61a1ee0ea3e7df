"""OpenCode's revert and unrevert, mapped onto the session's rewind (:mod:`..sessions.rewind`).

OpenCode's model (1.x ``session/revert.ts``): ``POST /session/{id}/revert {messageID}`` marks
the session's ``revert`` (``{messageID, partID?, snapshot?, diff?}``) and restores the files;
clients hide the messages from ``messageID`` on (the server still lists them).
``unrevert`` brings everything back. The next prompt *commits* a revert: the hidden
messages are removed and the conversation continues from before ``messageID``.

Here:

* A revert is per turn: ``messageID`` (or the message of ``partID``) names a turn, and the
  whole turn is reverted (``revert.messageID`` is its user message; no partial turns).
  The first turn cannot be reverted (400: nothing would remain; start a new session).
* Files: with ``--file-checkpointing``, the files the agent changed since the turn's prompt
  are rewound (the SDK's ``rewind_files``); their contents just before are kept in a
  *stash* (``<data dir>/opencode-revert/<session>.json``, the ``snapshot`` token names it)
  so ``unrevert`` can put them back; ``diff`` is the unified diff from those contents to
  the restored ones. Without checkpointing a revert is conversation-only (as OpenCode's own
  revert when its snapshots are off): no ``snapshot``, no ``diff``, files untouched.
* The pending revert and the turns a commit removed live in the registry's alias table
  (namespaces :data:`PENDING` and :data:`HIDDEN`: no schema of their own), so they survive
  restarts; the OpenCode view of the conversation leaves the removed turns out.
* Committing cuts the Claude Code conversation back to before the turn's prompt
  (:meth:`~..sessions.Session.rewind_conversation`: the next wake resumes the transcript
  there). Only a prompt through these routes commits: a turn sent meanwhile through another
  API runs with the whole conversation, and is cut too when the revert is committed.
* The pending revert and the removed turns are read from the registry on every use (no
  per-node cache: the session may be woken on another node between two requests). The
  stash is on the disk of the node that made it, as the files it restores are (file
  checkpointing is local to the session's working directory too).
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..sessions import Session, TurnInProgress
from ..sessions.forking import prompt_of_turn
from ..store import Registry
from .conversation import Conversation
from .errors import BadRequest, NotFound

PENDING = "oc-revert"
"""Alias namespace of pending reverts: alias ``<session>|<start>|<messageID>|<partID>|<snapshot>|<prompt uuid>``."""
HIDDEN = "oc-hidden"
"""Alias namespace of removed turns: alias ``<session>|<first event id>|<last event id>``."""
STASH_LIMIT = 64 * 1024 * 1024
"""Bytes of file contents a revert may stash for unrevert, at most (beyond: 400)."""
DIFF_LIMIT = 256 * 1024
"""Characters of ``revert.diff``, at most (the rest is cut)."""


@dataclass(frozen=True, slots=True)
class Revert:
    """A session's pending revert."""

    start: int
    """``turn_started`` id of the first reverted turn."""
    message_id: str
    part_id: str | None
    snapshot: str | None
    """Names the stash of the files' contents before the revert (None: files untouched)."""
    prompt: str
    """The transcript uuid of the reverted turn's prompt."""

    def alias(self, claude_id: str) -> str:
        return "|".join([claude_id, str(self.start), self.message_id, self.part_id or "", self.snapshot or "", self.prompt])

    @classmethod
    def parse(cls, alias: str) -> Revert:
        _, start, message_id, part_id, snapshot, prompt = alias.split("|")
        return cls(int(start), message_id, part_id or None, snapshot or None, prompt)


class Reverts:
    """Pending reverts and removed turns, in the registry's aliases (read on every use: any
    node may serve the session's next request); the stashes, on this node's disk."""

    def __init__(self, registry: Registry, stash_dir: Path) -> None:
        self._registry = registry
        self._stash_dir = stash_dir

    async def pending(self, claude_id: str) -> Revert | None:
        """The session's pending revert, if any."""
        filed = await self._registry.aliases_of(PENDING, claude_id)
        return Revert.parse(filed[-1]) if filed else None

    async def hidden(self, claude_id: str) -> list[tuple[int, int]]:
        """The event-id ranges (inclusive) of the session's removed turns."""
        ranges = []
        for alias in await self._registry.aliases_of(HIDDEN, claude_id):
            _, first, last = alias.split("|")
            ranges.append((int(first), int(last)))
        return ranges

    async def set_pending(self, claude_id: str, revert: Revert | None) -> None:
        if revert is None:
            if (current := await self.pending(claude_id)) is not None:
                await self._registry.drop_alias(PENDING, current.alias(claude_id))
        else:
            await self._registry.put_alias(PENDING, revert.alias(claude_id), claude_id, replace=True)

    async def hide(self, claude_id: str, first: int, last: int) -> None:
        await self._registry.put_alias(HIDDEN, f"{claude_id}|{first}|{last}", claude_id)

    # -- stashes ---------------------------------------------------------------

    def _stash_path(self, claude_id: str) -> Path:
        return self._stash_dir / f"{claude_id}.json"

    def stash(self, claude_id: str, files: list[str]) -> tuple[str, dict[str, bytes | None]]:
        """Keep the current contents of ``files`` (None: absent); ``(snapshot token, contents)``.

        Raises:
            BadRequest: They exceed :data:`STASH_LIMIT`.
        """
        contents: dict[str, bytes | None] = {}
        total = 0
        for name in files:
            path = Path(name)
            if path.is_file():
                total += path.stat().st_size
                if total > STASH_LIMIT:
                    raise BadRequest(f"the files to revert exceed {STASH_LIMIT} bytes: too large to keep for unrevert")
                contents[name] = path.read_bytes()
            else:
                contents[name] = None
        token = secrets.token_hex(8)
        self._write(claude_id, {"snapshot": token, "files": {k: None if v is None else base64.b64encode(v).decode() for k, v in contents.items()}})
        return token, contents

    def restore(self, claude_id: str, snapshot: str) -> None:
        """Write the stashed contents back (files absent then are removed) and drop the stash."""
        data = self._read(claude_id)
        if data.get("snapshot") == snapshot:
            for name, encoded in data.get("files", {}).items():
                target = Path(name)
                if encoded is None:
                    with contextlib.suppress(FileNotFoundError):
                        target.unlink()
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(base64.b64decode(encoded))
        self.discard(claude_id)

    def discard(self, claude_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._stash_path(claude_id).unlink()

    def _read(self, claude_id: str) -> dict[str, Any]:
        try:
            return dict(json.loads(self._stash_path(claude_id).read_text()))
        except (OSError, ValueError):
            return {}

    def _write(self, claude_id: str, data: dict[str, Any]) -> None:
        self._stash_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self._stash_path(claude_id)
        partial = target.with_suffix(".partial")
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            json.dump(data, out)
        partial.replace(target)

    def set_diff(self, claude_id: str, diff: str) -> None:
        """Keep the pending revert's diff with its stash."""
        data = self._read(claude_id)
        if data:
            self._write(claude_id, {**data, "diff": diff})

    def diff(self, claude_id: str, snapshot: str) -> str | None:
        """The diff of the revert whose stash ``snapshot`` names, if this node holds that stash."""
        data = self._read(claude_id)
        return data.get("diff") if data.get("snapshot") == snapshot else None


def diff_of(before: dict[str, bytes | None], root: str) -> str:
    """The unified diff from ``before`` (contents by path) to the files as they are now."""
    chunks = []
    for name, old in before.items():
        path = Path(name)
        new = path.read_bytes() if path.is_file() else None
        if old == new:
            continue
        label = os.path.relpath(name, root) if name.startswith(root) else name
        a = (old or b"").decode(errors="replace").splitlines(keepends=True)
        b = (new or b"").decode(errors="replace").splitlines(keepends=True)
        chunks.extend(difflib.unified_diff(a, b, f"a/{label}" if old is not None else "/dev/null", f"b/{label}" if new is not None else "/dev/null"))
    return "".join(chunks)[:DIFF_LIMIT]


def info_of(revert: Revert | None, diff: str | None = None) -> dict[str, Any] | None:
    """The ``revert`` field of an OpenCode ``Session``."""
    if revert is None:
        return None
    found: dict[str, Any] = {"messageID": revert.message_id}
    if revert.part_id:
        found["partID"] = revert.part_id
    if revert.snapshot:
        found["snapshot"] = revert.snapshot
    if diff is not None:
        found["diff"] = diff
    return found


async def revert(
    reverts: Reverts, session: Session, view: Conversation, transcript: list[dict[str, Any]], message_id: str, part_id: str | None, checkpointing: bool
) -> str | None:
    """Revert the turn of ``message_id`` (or of ``part_id``'s message); the diff (None: files untouched).

    Raises:
        TurnInProgress: A turn runs (409).
        NotFound: No such message or part in the view.
        BadRequest: The first turn (nothing would remain), or too much to stash.
        As :meth:`~..sessions.Session.rewind`.
    """
    if session.busy:
        raise TurnInProgress(session.id)
    owner = view.message_of_part(part_id) if part_id else None
    turn = view.turn_of.get(owner or message_id)
    if turn is None:
        raise NotFound(f"message {(owner or message_id)[:100]!r} not found in session {view.context.session_id}")
    if "|" in turn.user_id or len(turn.user_id) > 100:  # kept in an alias (see :data:`PENDING`)
        raise BadRequest(f"message {turn.user_id[:100]!r} cannot be reverted: its id is not one OpenCode makes")
    index = view.turns.index(turn)
    if index == 0:
        raise BadRequest("the first message cannot be reverted (nothing would remain): start a new session instead")
    prompt = prompt_of_turn(session.id, transcript, index, turn.prompt)
    await unrevert(reverts, session)  # a second revert starts from the full state
    snapshot, diff = None, None
    if checkpointing:
        files = await session.rewind_plan(prompt)
        snapshot, before = reverts.stash(session.id, files)
        try:
            await session.rewind(prompt)
        except BaseException:
            reverts.discard(session.id)
            raise
        diff = diff_of(before, session.cwd)
        reverts.set_diff(session.id, diff)
    await reverts.set_pending(session.id, Revert(turn.start, turn.user_id, None, snapshot, prompt))
    return diff


async def unrevert(reverts: Reverts, session: Session) -> bool:
    """Bring back what the pending revert took (its files from the stash); whether there was one.

    Raises:
        TurnInProgress: A turn runs (409).
    """
    current = await reverts.pending(session.id)
    if current is None:
        return False
    if session.busy:
        raise TurnInProgress(session.id)
    if current.snapshot:
        reverts.restore(session.id, current.snapshot)
    await reverts.set_pending(session.id, None)
    return True


async def commit(reverts: Reverts, session: Session, last_event: int) -> Revert | None:
    """Before a new prompt: make the pending revert final (the conversation continues from
    before its turn; the turns from it up to ``last_event`` leave the view); the revert, if any."""
    current = await reverts.pending(session.id)
    if current is None:
        return None
    await session.rewind_conversation(current.prompt)
    await reverts.hide(session.id, current.start, last_event)
    reverts.discard(session.id)
    await reverts.set_pending(session.id, None)
    return current
