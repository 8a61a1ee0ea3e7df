"""The Responses-API routes: ``POST /v1/responses``, ``GET``/``DELETE /v1/responses/{id}``,
``GET /v1/responses/{id}/input_items``.

Auth and errors as the chat gateway's (the server key as Bearer; OpenAI's error shape).
Every reply that got as far as a session carries ``X-Session-Id``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sse_starlette import ServerSentEvent

from ...web.deps import StateDep
from ...web.responses import SSE, request_body
from ...web.sse import EventSource, Frame
from ..errors import SESSION_HEADER, bad_request
from ..routes import ERRORS, KeyDep, catalog, parse_body
from .protocol import DeletedResponse, InputItemList, Response, ResponseCreateRequest
from .service import Running

router = APIRouter(prefix="/v1", tags=["openai gateway"], responses=ERRORS)


@router.post("/responses", response_model=Response, responses=SSE, openapi_extra=request_body(ResponseCreateRequest))
async def create_response(request: Request, state: StateDep, digest: KeyDep) -> Any:
    """A response from an agent session (``response`` object), or with ``stream: true`` OpenAI's
    typed events (``response.created`` … ``response.completed``/``response.failed``), each with
    ``sequence_number``. ``previous_response_id`` continues that response's session (a fork
    when it is not the session's latest response).

    Errors: 400 bad request, 401, 404 unknown model or ``previous_response_id``, 409 busy,
    413 input longer than Claude Code takes, 429 no session can be made live, 502 the agent
    failed (or gave no valid structured output).
    """
    raw = await request.body()
    body = parse_body(raw, ResponseCreateRequest.from_body)
    if isinstance(body.input, list) and not all(isinstance(item, dict) for item in body.input):
        raise bad_request("input: a list of input items (objects)", "input")
    choice = catalog(state).resolve(body.model)
    running = await state.responses.create(body, choice, digest)
    headers = {SESSION_HEADER: running.session_id}
    if body.stream:
        return EventSource(_frames(running), ping=15, headers={**headers, "X-Accel-Buffering": "no", "Cache-Control": "no-cache"})
    async for _ in running.events():
        pass
    if running.failure is not None:
        raise running.failure
    return JSONResponse(running.builder.response.model_dump(), headers=headers)


async def _frames(running: Running) -> AsyncIterator[ServerSentEvent]:
    async for event in running.events():
        yield Frame(event=event["type"], data=json.dumps(event, ensure_ascii=False))


@router.get("/responses/{response_id}", response_model=Response)
async def get_response(response_id: str, state: StateDep, _: KeyDep) -> Any:
    """A stored response (404 ``response_not_found`` for an unknown id or one made with ``store: false``)."""
    record = await state.responses.record(response_id)
    return JSONResponse(record.body, headers={SESSION_HEADER: record.session_id})


@router.delete("/responses/{response_id}", response_model=DeletedResponse)
async def delete_response(response_id: str, state: StateDep, _: KeyDep) -> Any:
    """Delete a stored response (its session and the other responses stay)."""
    record = await state.responses.record(response_id)
    await state.responses.store.delete(record.id)
    return DeletedResponse(id=record.id).model_dump()


@router.get("/responses/{response_id}/input_items", response_model=InputItemList)
async def list_input_items(
    response_id: str,
    state: StateDep,
    _: KeyDep,
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(max_length=100)] = None,
) -> Any:
    """The response's input items (``order`` desc by default, as OpenAI lists them; ``after``: an item id)."""
    record = await state.responses.record(response_id)
    listed: list[dict[str, Any]] = list(record.input if order == "asc" else reversed(record.input))
    if after is not None:
        ids = [item.get("id") for item in listed]
        listed = listed[ids.index(after) + 1 :] if after in ids else []
    page = listed[:limit]
    return InputItemList(
        data=page, first_id=page[0]["id"] if page else None, last_id=page[-1]["id"] if page else None, has_more=len(listed) > limit
    ).model_dump()
