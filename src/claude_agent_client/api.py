"""Typed async client for the claude-agent-server HTTP API (usable as a library).

Example::

    async with AgentClient("http://127.0.0.1:8000", api_key=None) as client:
        session = await client.create_session(cwd="/work/project")
        reply = await client.send_message(session.session_id, "hello")
        print(reply.result)

Replies and events are claude_agent_protocol's models, read by
:mod:`claude_agent_client.wire` (so a newer server's additions do not break this client).
Every method raises :class:`~claude_agent_client.errors.ServerUnavailable` when
the server cannot be reached and an :class:`~claude_agent_client.errors.APIError`
subclass (``status_code``, ``detail``) when it answers with an error status, or with a
body this client cannot read (then ``status_code`` is the reply's own, e.g. 200).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, TypeVar

import httpx
import claude_agent_protocol as protocol
from httpx_sse import SSEError, aconnect_sse
from pydantic import BaseModel, ValidationError

from .errors import APIError, ServerUnavailable, error_for_status, parse_retry_after
from .wire import (
    AvailableSession,
    AvailableSessions,
    CreatedSession,
    SessionEntry,
    SessionList,
    SessionStatusView,
    StreamItem,
    read,
    read_event,
)

__all__ = ["AgentClient", "DEFAULT_URL"]

DEFAULT_URL = "http://127.0.0.1:8000"
CALL_TIMEOUT = 30.0
"""Seconds for ordinary calls."""
CREATE_TIMEOUT = 180.0
"""Seconds for ``POST /sessions`` (it waits for Claude Code to start)."""
STREAM_READ_TIMEOUT = 60.0
"""Seconds of silence after which an SSE stream counts as broken (the server sends heartbeats)."""

M = TypeVar("M", bound=BaseModel)


class AgentClient:
    """One connection pool to one server.

    Args:
        base_url: The server, e.g. ``http://127.0.0.1:8000``.
        api_key: Sent as ``Authorization: Bearer <key>`` when set.
        transport: An httpx transport (tests and embedding); default: the network.
    """

    def __init__(self, base_url: str = DEFAULT_URL, api_key: str | None = None, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=CALL_TIMEOUT, transport=transport)

    async def __aenter__(self) -> AgentClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- plumbing ---------------------------------------------------------

    def _unavailable(self, exc: httpx.TransportError) -> ServerUnavailable:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.ConnectError):
            reason = f"connection failed ({reason})"
        return ServerUnavailable(self.base_url, reason)

    async def _request(self, method: str, path: str, reply: type[M], **kwargs: Any) -> M:
        """The reply to ``method path`` read as ``reply``."""
        data, status_code = await self._json(method, path, **kwargs)
        try:
            return read(reply, data)
        except ValidationError as exc:
            raise APIError(status_code, f"{method} {path}: a reply this client cannot read ({_problems(exc)})") from exc

    async def _json(self, method: str, path: str, **kwargs: Any) -> tuple[Any, int]:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unavailable(exc) from exc
        if response.status_code >= 400:
            raise _error(response)
        try:
            return response.json(), response.status_code
        except ValueError as exc:
            raise APIError(response.status_code, f"{method} {path} did not answer JSON (is this an agent server?)") from exc

    # -- server -----------------------------------------------------------

    async def health(self) -> protocol.Health:
        """``GET /health`` (never needs the API key)."""
        return await self._request("GET", "/health", protocol.Health)

    # -- sessions ---------------------------------------------------------

    async def create_session(
        self,
        *,
        resume_session_id: str | None = None,
        model: str | None = None,
        cwd: str | None = None,
        permission_mode: str | None = None,
        enable_proxy: bool = False,
        **options: Any,
    ) -> CreatedSession:
        """Start a session, or resume a transcript with ``resume_session_id`` (same id).

        ``options`` pass other ``POST /sessions`` fields (``system_prompt``,
        ``allowed_tools``, ``max_turns``, ...). Waits until Claude Code is connected.

        Raises:
            NotFound: no transcript to resume. Conflict: that session is already live.
            InvalidRequest: bad id or cwd. ServerError: the CLI failed to start (502), or
            every live session is busy (503, with ``retry_after`` when the server hints).
        """
        body: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
        for key, value in (("resume_session_id", resume_session_id), ("model", model), ("cwd", cwd), ("permission_mode", permission_mode)):
            if value is not None:
                body[key] = value
        if enable_proxy:
            body["enable_proxy"] = True
        return await self._request("POST", "/sessions", CreatedSession, json=body, timeout=CREATE_TIMEOUT)

    async def list_sessions(self, status: str | None = None, limit: int = 50, offset: int = 0) -> list[SessionEntry]:
        """``GET /sessions``: the server's sessions, live and hibernated (never closed ones),
        newest activity first.

        Args:
            status: Only sessions with this status (``running``, ``hibernated``, ...).
            limit: At most this many.
            offset: Skip this many first.
        """
        listed = await self._request("GET", "/sessions", SessionList, params=_page(limit, offset, status=status))
        return listed.sessions

    async def available_sessions(self, cwd: str | None = None, limit: int = 50, offset: int = 0) -> list[AvailableSession]:
        """``GET /sessions/available``: resumable transcripts, newest first (each with the
        server's ``state`` for it: live, hibernated, closed, or None when unknown)."""
        available = await self._request("GET", "/sessions/available", AvailableSessions, params=_page(limit, offset, cwd=cwd))
        return available.sessions

    async def status(self, session_id: str) -> SessionStatusView:
        """``GET /sessions/{id}/status`` (also for a hibernated session: status ``hibernated``).

        Raises:
            NotFound: the session is closed or unknown.
        """
        return await self._request("GET", f"/sessions/{session_id}/status", SessionStatusView)

    async def history(self, session_id: str) -> list[protocol.HistoryMessage]:
        """``GET /sessions/{id}/history``: the transcript's user and assistant messages, oldest first."""
        return (await self._request("GET", f"/sessions/{session_id}/history", protocol.SessionHistory)).messages

    async def close_session(self, session_id: str) -> protocol.CloseReply:
        """``DELETE /sessions/{id}``: stop it; the transcript stays resumable."""
        return await self._request("DELETE", f"/sessions/{session_id}", protocol.CloseReply)

    async def hibernate(self, session_id: str) -> protocol.HibernateReply:
        """``POST /sessions/{id}/hibernate``: stop the session's Claude Code process but keep
        the session; the next message (or model, mode, info call) wakes it.

        Raises:
            Conflict: a turn is running. NotFound: the session is closed or unknown.
        """
        return await self._request("POST", f"/sessions/{session_id}/hibernate", protocol.HibernateReply)

    async def fork(self, session_id: str, at_message_id: str | None = None, title: str | None = None) -> protocol.ForkedSession:
        """``POST /sessions/{id}/fork``: a new session whose history is this one's up to
        ``at_message_id`` (all of it by default); the original is untouched.

        Raises:
            NotFound: no such session or message.
        """
        body = {k: v for k, v in {"at_message_id": at_message_id, "title": title}.items() if v is not None}
        return await self._request("POST", f"/sessions/{session_id}/fork", protocol.ForkedSession, json=body)

    # -- turns ------------------------------------------------------------

    async def send_message(self, session_id: str, message: str, mode: protocol.SendMode = "reject") -> protocol.TurnReply:
        """Run one turn and wait for its end (no time limit: permissions may wait for a human).
        A hibernated session wakes first.

        Args:
            mode: What happens while another turn runs: ``reject`` (409), ``queue`` (the message
                runs after it, in order: the reply is its own turn's) or ``steer`` (it joins the
                running turn: the reply is that turn's). Without a running turn all three run now.

        Raises:
            Conflict: a turn is already running (``reject``), or the queued message was cancelled.
            ServerError: 503 when every live session is busy and none can be woken
                (``retry_after`` then holds the server's hint).
        """
        body: dict[str, Any] = {"message": message}
        if mode != "reject":  # servers before queueing refuse the field
            body["mode"] = mode
        return await self._request(
            "POST", f"/sessions/{session_id}/messages", protocol.TurnReply, json=body, timeout=httpx.Timeout(CALL_TIMEOUT, read=None)
        )

    async def stream_message(self, session_id: str, message: str) -> AsyncIterator[StreamItem]:
        """Run one turn as SSE: yields its events from ``turn_started`` to ``result`` or ``error``."""
        async for event in self._sse("POST", f"/sessions/{session_id}/messages", json={"message": message, "stream": True}):
            yield event

    async def events(self, session_id: str, last_event_id: int | None = None) -> AsyncIterator[StreamItem]:
        """Subscribe to ``GET /sessions/{id}/events`` (one connection, no reconnect).

        Yields first a :class:`~claude_agent_client.wire.StatusSnapshot` (no id; as
        :meth:`status`), then the buffered events with an id above ``last_event_id`` (none
        when it is ``None``), then live events: protocol event models (``status`` events
        as :class:`~claude_agent_client.wire.StatusEvent`); events of a type this client
        does not know are skipped. Ids increase but are not contiguous (gaps are
        normal). The stream outlives hibernation and ends when the session is closed.
        For automatic reconnection see :class:`claude_agent_client.stream.EventFollower`.
        """
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
        async for event in self._sse("GET", f"/sessions/{session_id}/events", headers=headers):
            yield event

    async def _sse(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[StreamItem]:
        timeout = httpx.Timeout(CALL_TIMEOUT, read=STREAM_READ_TIMEOUT)
        try:
            async with aconnect_sse(self._http, method, path, timeout=timeout, **kwargs) as source:
                if source.response.status_code >= 400:
                    await source.response.aread()
                    raise _error(source.response)
                try:
                    async for sse in source.aiter_sse():
                        try:
                            data = json.loads(sse.data) if sse.data else None
                        except json.JSONDecodeError:
                            continue
                        if not isinstance(data, dict):
                            continue
                        try:
                            event = read_event(data)
                        except ValidationError as exc:
                            raise APIError(200, f"{path}: an event this client cannot read ({_problems(exc)})") from exc
                        if event is not None:
                            yield event
                except SSEError as exc:
                    raise ServerUnavailable(self.base_url, f"not an event stream ({exc})") from exc
        except httpx.TransportError as exc:
            raise self._unavailable(exc) from exc

    # -- permissions and control -----------------------------------------

    async def respond_permission(
        self,
        session_id: str,
        request_id: str,
        allowed: bool,
        *,
        apply_suggestions: bool = False,
        message: str | None = None,
        updated_input: dict[str, Any] | None = None,
    ) -> protocol.PermissionAck:
        """Answer a pending permission request.

        Args:
            apply_suggestions: Also apply the request's suggested rules ("always allow").
            message: Shown to the model when denying.
            updated_input: Run the tool with this input instead.

        Raises:
            NotFound: the request is unknown, already answered, timed out or cancelled.
        """
        body: dict[str, Any] = {"request_id": request_id, "allowed": allowed, "apply_suggestions": apply_suggestions}
        if message is not None:
            body["message"] = message
        if updated_input is not None:
            body["updated_input"] = updated_input
        return await self._request("POST", f"/sessions/{session_id}/permissions/respond", protocol.PermissionAck, json=body)

    async def interrupt(self, session_id: str) -> bool:
        """Stop the running turn (pending permissions are denied). Returns whether one was running."""
        return (await self._request("POST", f"/sessions/{session_id}/interrupt", protocol.InterruptReply)).was_running

    async def set_model(self, session_id: str, model: str | None) -> protocol.ModelReply:
        """Switch the model for the following requests (``None``: the server's default)."""
        return await self._request("POST", f"/sessions/{session_id}/model", protocol.ModelReply, json={"model": model})

    async def set_permission_mode(self, session_id: str, mode: str) -> protocol.PermissionModeReply:
        """Switch the permission mode (default, acceptEdits, plan, bypassPermissions, ...).

        Raises:
            InvalidRequest: a mode the server does not know (422).
        """
        return await self._request("POST", f"/sessions/{session_id}/permission_mode", protocol.PermissionModeReply, json={"mode": mode})

    async def server_info(self, session_id: str) -> dict[str, Any]:
        """The CLI's initialization info: ``commands``, ``output_style``, ``models``, ...
        (the CLI's own shape, passed through as JSON)."""
        data, status_code = await self._json("GET", f"/sessions/{session_id}/server_info")
        if not isinstance(data, dict):
            raise APIError(status_code, "GET server_info: not a JSON object")
        return data


def _page(limit: int, offset: int, **filters: str | None) -> dict[str, Any]:
    """Query parameters of a paged list: ``limit``, ``offset`` and the filters that are set."""
    return {"limit": limit, "offset": offset, **{k: v for k, v in filters.items() if v is not None}}


def _problems(exc: ValidationError) -> str:
    """A validation error in one line: ``field.path: message; ...`` (the first three)."""
    errors = exc.errors()
    text = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in errors[:3])
    return text + (f"; {len(errors) - 3} more" if len(errors) > 3 else "")


def _error(response: httpx.Response) -> APIError:
    return error_for_status(response.status_code, _detail(response), parse_retry_after(response.headers.get("Retry-After")))


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    return body.get("detail", body) if isinstance(body, dict) else body
