"""Rewinding what the agent did: its file changes since a prompt (the SDK's file
checkpointing, ``rewind_files``) and, when asked, the conversation itself.

A part of :class:`~.session.Session`. The conversation is cut back by resuming the
transcript at the message before the prompt (the CLI's ``--resume-session-at``): the
session is hibernated with ``SessionSpec.resume_at`` set, its next wake loads the
transcript up to there, and its next turn continues from that point (the entries after
it stay in the file, on a branch no later resume follows).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from .errors import CommandRejected, InvalidSessionRequest, MessageNotFound, TurnInProgress

if TYPE_CHECKING:
    from .options import SessionSpec


async def _rewind_files(client: Any, message_id: str, dry_run: bool) -> dict[str, Any]:
    """The CLI's answer to a ``rewind_files`` control request: the SDK's ``rewind_files`` drops
    it, so the request goes through its query object (``filesChanged`` on a dry run)."""
    query = getattr(client, "_query", None)
    if query is None or not hasattr(query, "_send_control_request"):  # another client: no answer to read
        if not dry_run:
            await client.rewind_files(message_id)
        return {"canRewind": True}
    request: dict[str, Any] = {"subtype": "rewind_files", "user_message_id": message_id}
    if dry_run:
        request["dry_run"] = True
    return dict(await query._send_control_request(request) or {})


class Rewinding:
    """The rewinding part of a session."""

    id: str
    spec: SessionSpec
    _turn_running: bool

    if TYPE_CHECKING:  # the session's own

        def _use(self) -> contextlib.AbstractAsyncContextManager[None]: ...
        async def _call(self, name: str, operation: Any) -> Any: ...
        def _ensure_open(self) -> None: ...
        def _spec_changed(self) -> None: ...
        async def hibernate(self) -> bool: ...
        @property
        def cwd(self) -> str: ...

    async def rewind(self, message_id: str, conversation: bool = False) -> list[str]:
        """Restore every file the agent changed since the user message ``message_id`` to its
        state before it; with ``conversation``, also cut the conversation back to before it.

        Returns:
            The files restored (absolute paths, as the CLI names them).

        Raises:
            TurnInProgress: A turn runs.
            MessageNotFound: ``message_id`` is not a prompt of the transcript.
            CommandRejected: The CLI cannot rewind (file checkpointing off, no checkpoint).
            InvalidSessionRequest: ``conversation`` at the first prompt (nothing would remain).
        """
        self._ensure_open()
        if self._turn_running:
            raise TurnInProgress(self.id)
        keep = await self._message_before(message_id) if conversation else None
        files = await self._restore_files(message_id, dry_run=False)
        if keep is not None:
            await self._cut_at(keep)
        return files

    async def rewind_plan(self, message_id: str) -> list[str]:
        """The files :meth:`rewind` would restore (the CLI's dry run; nothing changes).

        Raises:
            As :meth:`rewind`.
        """
        self._ensure_open()
        if self._turn_running:
            raise TurnInProgress(self.id)
        return await self._restore_files(message_id, dry_run=True)

    async def rewind_conversation(self, message_id: str) -> None:
        """Cut the conversation back to before the user message ``message_id``, files untouched:
        the session hibernates and its next turn continues from there (needs no checkpoint).

        Raises:
            TurnInProgress: A turn runs.
            MessageNotFound: ``message_id`` is not a prompt of the transcript.
            InvalidSessionRequest: It is the first prompt (nothing would remain).
        """
        self._ensure_open()
        if self._turn_running:
            raise TurnInProgress(self.id)
        await self._cut_at(await self._message_before(message_id))

    async def _restore_files(self, message_id: str, dry_run: bool) -> list[str]:
        async with self._use():
            if self._turn_running:
                raise TurnInProgress(self.id)
            plan = await self._call("rewind_files", lambda client: _rewind_files(client, message_id, True))
            if not plan.get("canRewind", False):
                raise CommandRejected("rewind_files", str(plan.get("error") or "no file checkpoint for that message"))
            if not dry_run:
                await self._call("rewind_files", lambda client: _rewind_files(client, message_id, False))
        return [str(path) for path in plan.get("filesChanged") or []]

    async def _cut_at(self, keep: str) -> None:
        self.spec.resume_at = keep
        self._spec_changed()
        await self.hibernate()  # the next wake loads the transcript up to ``keep``

    async def _message_before(self, message_id: str) -> str:
        messages = await self._host.transcripts.messages(self.id, self.cwd)
        wanted = message_id.lower()
        for index, message in enumerate(messages):
            if str(message.get("uuid", "")).lower() == wanted and message.get("type") == "user":
                if index == 0:
                    raise InvalidSessionRequest("nothing comes before the first message: start a new session instead")
                return str(messages[index - 1]["uuid"])
        raise MessageNotFound(self.id, message_id)
