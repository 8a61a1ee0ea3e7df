"""``/session``: sessions, their messages, prompts, abort, status, todo and diff.

A prompt is one turn of the Claude Code session. ``POST /session/{id}/message``
answers when the turn ends, and only after every ``/event`` subscriber has sent
the turn's events (OpenCode's ``run`` prints only what it received before the
reply; a request from OpenCode's own app also waits for a subscriber to connect,
since ``run`` may post before its event stream is up), with ``{...assistant info,
info, parts}``: 1.x clients read ``{info, parts}``, the Python SDK reads the
assistant message itself. Until then the turn is open: event subscribers that
connect meanwhile get it from its start (:mod:`..hub`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from ...proxy import ProxyConfig
from ...sessions import Session, SessionRequest
from ...web.state import server_state
from ...sessions.turns import turn_events
from .. import catalog
from ..conversation import Conversation
from ..deps import DirectoryDep, HubDep, ManagerDep, SessionDep, SettingsDep
from ..errors import ERRORS, BadRequest, NotFound, OpenCodeRoute
from ..hub import Hub
from .revert import commit_revert
from ..protocol import MessageWithParts, PromptBody, PromptReply, SessionCreate, SessionInfo, SessionStatus, SessionUpdate, SnapshotFileDiff, Todo
from ..views import context_of, conversation, entry_of, session_info

router = APIRouter(route_class=OpenCodeRoute, tags=["opencode"], responses=ERRORS)

DELIVERY_TIMEOUT = 3.0
"""Seconds a reply waits for event subscribers to send the turn's events."""
READER_AGENTS = ("opencode/",)
"""``User-Agent`` prefixes of clients that show a turn from the event stream and stop at
the reply (OpenCode's app: ``opencode run``, the TUI): their reply also waits for a
subscriber to exist, and then :data:`READER_SETTLE` seconds."""
READER_SETTLE = 0.2
"""Seconds between the last frame of a turn and the reply, for those clients: ``opencode
run --attach`` exits as soon as the reply arrives, and may not have read frames that
arrived just before it on its other connection (seen ~1 in 30 runs on a loaded machine)."""


def _proxy_config(request: Request) -> ProxyConfig | None:
    return server_state(request.app).proxy.config


@router.post("/session", response_model_exclude_none=True)
async def create_session(request: Request, manager: ManagerDep, hub: HubDep, settings: SettingsDep, directory: DirectoryDep, body: SessionCreate | None = None) -> SessionInfo:
    """A new session (origin ``opencode``) in ``directory`` (inside the workspace; 400 outside)."""
    body = body or SessionCreate()
    model, enable_proxy = None, False
    if body.model is not None:
        model, enable_proxy = catalog.choose(settings, _proxy_config(request), body.model.provider_id, body.model.model)
    request = SessionRequest(cwd=directory, model=model, enable_proxy=enable_proxy, origin="opencode", title=body.title or None)
    session = await manager.create(request)
    return await session_info(hub, settings, session.snapshot())


@router.get("/session", response_model_exclude_none=True)
async def list_sessions(manager: ManagerDep, hub: HubDep, settings: SettingsDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[SessionInfo]:
    """Live and hibernated sessions (every origin), newest activity first."""
    return [await session_info(hub, settings, entry) for entry in await manager.list(limit=limit)]


@router.get("/session/status")
async def session_status(manager: ManagerDep, hub: HubDep) -> dict[str, SessionStatus]:
    """``{sessionID: {type: "busy"}}`` for sessions running a turn (idle ones are left out)."""
    found: dict[str, SessionStatus] = {}
    for state in ("running", "waiting_permission"):
        for entry in await manager.list(status=state, limit=1000):
            found[await hub.ids.ses_of(entry["session_id"], entry["created_at"])] = SessionStatus(type="busy")
    return found


@router.get("/session/{session_id}", response_model_exclude_none=True)
async def get_session(session: SessionDep, hub: HubDep, settings: SettingsDep) -> SessionInfo:
    return await session_info(hub, settings, session.snapshot())


@router.patch("/session/{session_id}", response_model_exclude_none=True)
async def update_session(body: SessionUpdate, session: SessionDep, hub: HubDep, settings: SettingsDep) -> SessionInfo:
    """Rename a session (``title``)."""
    if body.title:
        session.set_title(body.title)
    return await session_info(hub, settings, session.snapshot())


@router.delete("/session/{session_id}")
async def delete_session(session: SessionDep, manager: ManagerDep) -> bool:
    """Close the session for good (its transcript stays); ``true``."""
    await manager.close(session.id, wait=False)
    return True


@router.post("/session/{session_id}/abort")
async def abort(session: SessionDep) -> bool:
    """Interrupt the running turn (pending permissions are rejected); ``true``."""
    await session.interrupt()
    return True


@router.get("/session/{session_id}/message", response_model_exclude_none=True)
async def list_messages(session: SessionDep, hub: HubDep, settings: SettingsDep, limit: Annotated[int | None, Query(ge=1, le=10_000)] = None) -> list[MessageWithParts]:
    """``[{info, parts}]``, oldest first (the last ``limit``), built from the session's events."""
    found = await conversation(hub, settings, await entry_of(hub, session.id))
    messages = [message.reply() for message in found.messages.values()]
    return messages[-limit:] if limit else messages


@router.get("/session/{session_id}/message/{message_id}", response_model_exclude_none=True)
async def get_message(message_id: Annotated[str, Path(max_length=200)], session: SessionDep, hub: HubDep, settings: SettingsDep) -> MessageWithParts:
    """One message as ``{info, parts}`` (404 ``NotFoundError`` when the session has none with this id)."""
    found = await conversation(hub, settings, await entry_of(hub, session.id))
    message = found.messages.get(message_id)
    if message is None:
        raise NotFound(f"message {message_id[:100]!r} not found in session {found.context.session_id}")
    return message.reply()


def _prompt_text(body: PromptBody) -> str:
    """The prompt: the text parts; other parts are named (files by name or URL)."""
    texts = []
    for part in body.parts:
        if part.type == "text" and part.text:
            texts.append(part.text)
        elif part.type == "file":
            texts.append(f"[attached file: {part.filename or (part.url or '')[:200]}]")
    text = "\n\n".join(texts).strip()
    if not text:
        raise BadRequest("the prompt has no text")
    if "\x00" in text:
        raise BadRequest("the prompt contains a NUL character")
    return text


async def _start(request: Request, body: PromptBody, session: Session, hub: Hub, *, held: bool = False) -> Any:
    """Apply the chosen model, then start the turn (queued after a running one); ``held``:
    the caller holds its reply until the turn is delivered and then calls ``hub.answered``."""
    settings = server_state(request.app).settings
    text = _prompt_text(body)
    ref = body.model_ref()
    if ref is not None:
        model, enable_proxy = catalog.choose(settings, _proxy_config(request), ref.provider_id, ref.model)
        if enable_proxy != bool(session.spec.enable_proxy):
            raise BadRequest(f"model {ref.provider_id}/{ref.model} needs a new session (it runs through another route)")
        if model != session.model and model != session.spec.model:
            await session.set_model(model)
    part_id = next((p.id for p in body.parts if p.type == "text" and p.id), None)
    if not session.busy:  # a prompt that will run now commits a pending revert (one queued behind a turn cannot meet one)
        await commit_revert(hub, settings, session)
    expectation = hub.expect(session.id, body.message_id, part_id, held=held)
    try:
        return await session.submit(text, "queue")  # a prompt while a turn runs waits for it, as in OpenCode
    except BaseException:
        if expectation.started is not None:  # started, then failed: nothing holds it
            hub.answered(session.id, expectation.started)
        raise
    finally:
        hub.forget(session.id)


@router.post("/session/{session_id}/message", response_model_exclude_none=True)
async def prompt(request: Request, body: PromptBody, session: SessionDep, hub: HubDep, settings: SettingsDep) -> PromptReply:
    """Run one turn; answers at its end with ``{...info, info, parts}`` (the assistant message)."""
    started = await _start(request, body, session, hub, held=True)
    try:
        found = Conversation(await context_of(hub, settings, session.snapshot()))
        last = started.id
        async for event in turn_events(session, started):
            found.feed(event)
            last = event.id
        reader = request.headers.get("user-agent", "").lower().startswith(READER_AGENTS)
        await hub.wait_delivered(last, DELIVERY_TIMEOUT, reader=reader)
    finally:
        hub.answered(session.id, started.id)
    if reader:
        await asyncio.sleep(READER_SETTLE)  # the turn is closed: new subscribers do not get it
    assistant = found.assistant
    assert assistant is not None
    reply = assistant.reply()
    return PromptReply(**dict(reply.info), info=reply.info, parts=reply.parts)


@router.post("/session/{session_id}/prompt_async", status_code=status.HTTP_204_NO_CONTENT)
async def prompt_async(request: Request, body: PromptBody, session: SessionDep, hub: HubDep) -> Response:
    """Start one turn and answer 204 at once; its events follow on ``/event``."""
    await _start(request, body, session, hub)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/session/{session_id}/todo", response_model_exclude_none=True)
async def todo(session: SessionDep) -> list[Todo]:
    return []


@router.get("/session/{session_id}/diff", response_model_exclude_none=True)
async def diff(session: SessionDep) -> list[SnapshotFileDiff]:
    return []
