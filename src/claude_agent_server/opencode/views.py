"""Sessions as OpenCode sees them: ``Session`` objects, a session's messages (from its
persisted events), and the translation of the server's global event stream.

Reads go through the manager and the registry interface only.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .. import __version__
from ..sessions import Event
from ..sessions.record import record_entry
from ..settings import Settings
from . import catalog
from .conversation import Context, Conversation, OcEvent
from .errors import NotFound
from .hub import Hub
from .mapping import ms
from .protocol import RevertInfo, SessionInfo, SessionTime, dump
from .revert import info_of

PAGE = 5_000


def project_id(settings: Settings) -> str:
    """The one project: the workspace (a stable hash of its path)."""
    return hashlib.sha1(str(settings.workspace).encode()).hexdigest()[:40]


async def entry_of(hub: Hub, claude_id: str) -> dict[str, Any]:
    """A session's list entry (see ``record_entry``), live or not.

    Raises:
        NotFound: The registry does not know it.
    """
    await hub.manager.registry.flush()
    record = await hub.manager.registry.get(claude_id)
    if record is None:
        raise NotFound(f"session {claude_id} not found")
    return record_entry(record, record.status)


async def session_info(hub: Hub, settings: Settings, entry: dict[str, Any]) -> SessionInfo:
    """An OpenCode ``Session`` for a list entry (times in ms; title: the first prompt, or a default)."""
    ses_id = await hub.ids.ses_of(entry["session_id"], entry["created_at"])
    created = ms(entry["created_at"])
    parent = entry.get("forked_from")
    parent_id = await hub.ids.ses_of(parent["session_id"]) if parent else None
    pending = await hub.reverts.pending(entry["session_id"])
    revert = info_of(pending, hub.reverts.diff(entry["session_id"], pending.snapshot) if pending and pending.snapshot else None)
    info = SessionInfo(
        id=ses_id,
        slug=ses_id[-8:].lower(),
        projectID=project_id(settings),
        directory=entry.get("cwd") or str(settings.workspace),
        title=entry.get("title") or f"New session - {entry['created_at'][:19]}",
        version=__version__,
        time=SessionTime(created=created, updated=max(created, ms(entry.get("last_activity")))),
        parent_id=parent_id,
        revert=RevertInfo.model_validate(revert) if revert else None,
    )
    return info


async def context_of(hub: Hub, settings: Settings, entry: dict[str, Any]) -> Context:
    """What the message mapper needs about a session."""
    ses_id = await hub.ids.ses_of(entry["session_id"], entry["created_at"])
    record = await hub.manager.registry.get(entry["session_id"])
    enable_proxy = bool(record.spec.get("enable_proxy")) if record else False
    provider, model = catalog.model_of(settings, entry.get("model"), enable_proxy)
    cwd = entry.get("cwd") or str(settings.workspace)
    return Context(ses_id, cwd, str(settings.workspace), provider, model, hub.client_ids)


async def conversation(hub: Hub, settings: Settings, entry: dict[str, Any], before: int | None = None) -> Conversation:
    """A session's conversation built from its persisted events (those with an id below
    ``before``), without the turns a committed revert removed."""
    found = Conversation(await context_of(hub, settings, entry))
    hidden = await hub.reverts.hidden(entry["session_id"])
    registry = hub.manager.registry
    await registry.flush()
    cursor = 0
    while True:
        page = await registry.events(session_id=entry["session_id"], after=cursor, limit=PAGE)
        for record in page:
            if before is not None and record.id >= before:
                return found
            if any(first <= record.id <= last for first, last in hidden):
                continue
            found.feed(Event(record.id, record.type, record.session_id, record.data, record.created_at))  # type: ignore[arg-type]
        if len(page) < PAGE:
            return found
        cursor = page[-1].id


class Translator:
    """The server's global stream → OpenCode bus events, for one subscriber."""

    def __init__(self, hub: Hub, settings: Settings) -> None:
        self._hub = hub
        self._settings = settings
        self._conversations: dict[str, Conversation] = {}

    def directory(self, session_id: str | None) -> str:
        """The directory of the session an event belongs to (``global`` for none)."""
        found = self._conversations.get(session_id or "")
        return found.context.cwd if found else "global"

    async def translate(self, event: Event) -> list[OcEvent]:
        """OpenCode events for one event of the global stream (none for sessions no longer known)."""
        sid = event.session_id
        if sid is None:
            return []
        try:
            if event.type == "session_created":
                entry = event.data["session"]
                self._conversations[sid] = Conversation(await context_of(self._hub, self._settings, entry))
                return [await self._session_event("session.created", entry)]
            if event.type == "session_deleted":
                entry = await entry_of(self._hub, sid)
                found = [await self._session_event("session.deleted", entry)]
                return found
            if event.type == "session_status":
                return []
            found_conversation = self._conversations.get(sid)
            if found_conversation is None:
                entry = await entry_of(self._hub, sid)
                before = None if event.type == "turn_started" else event.id
                found_conversation = await conversation(self._hub, self._settings, entry, before=before) if before else Conversation(
                    await context_of(self._hub, self._settings, entry)
                )
                self._conversations[sid] = found_conversation
            out = found_conversation.feed(event)
            if event.type == "turn_started":
                out.append(await self._session_event("session.updated", await entry_of(self._hub, sid)))
            elif event.type in ("result", "error"):
                # Before the turn's end, so ``session.idle`` is the event's last frame and carries
                # its id: a client that stops reading at ``session.idle`` resumes after the turn.
                out.insert(0, await self._session_event("session.updated", await entry_of(self._hub, sid)))
            return out
        except NotFound:
            return []

    async def _session_event(self, type: str, entry: dict[str, Any]) -> OcEvent:
        info = await session_info(self._hub, self._settings, entry)
        return {"type": type, "properties": {"sessionID": info.id, "info": dump(info)}}
