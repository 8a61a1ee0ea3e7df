"""The forwarding hop: the request as received goes to the owner's URL; a forwarded request is never forwarded again;
a remembered owner that is stale is refused by that node and the request goes to the node holding the session now."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
from starlette.requests import Request

from claude_agent_server.sessions.errors import SessionElsewhere
from claude_agent_server.sessions.owners import OwnerLookup
from claude_agent_server.store import Owner
from claude_agent_server.web.forward import FORWARDED_HEADER, NOT_OWNER_HEADER, Forwarder

SID = "00000000-0000-4000-8000-000000000001"


def request(headers: dict[str, str], body: bytes = b"") -> Request:
    scope = {
        "type": "http", "method": "POST", "path": f"/sessions/{SID}/messages", "raw_path": f"/sessions/{SID}/messages".encode(),
        "query_string": b"stream=true", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "agent_server.body": bytearray(body), "agent_server.body_done": True,
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    return Request(scope, receive)


async def test_the_request_goes_to_the_owner_as_received() -> None:
    seen: list[httpx.Request] = []

    def owner(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return httpx.Response(201, headers={"x-owner": "a", "connection": "close"}, content=b'{"ok": true}')

    forwarder = Forwarder("b")
    forwarder.transport = httpx.MockTransport(owner)
    body = json.dumps({"message": "hi"}).encode()
    answer = await forwarder.forward(
        request({"Host": "b:1", "Authorization": "Bearer k", "Content-Type": "application/json"}, body),
        SessionElsewhere(SID, "a", "http://10.0.0.5:8000"),
    )
    [sent] = seen
    assert str(sent.url) == f"http://10.0.0.5:8000/sessions/{SID}/messages?stream=true"
    assert sent.content == body and sent.headers["authorization"] == "Bearer k"
    assert sent.headers[FORWARDED_HEADER] == "b" and sent.headers["host"] == "10.0.0.5:8000"
    assert answer.status_code == 201
    assert dict(answer.raw_headers).get(b"x-owner") == b"a" and b"connection" not in dict(answer.raw_headers)
    await forwarder.close()


async def test_a_forwarded_request_is_not_forwarded_again() -> None:
    def owner(sent: httpx.Request) -> httpx.Response:
        raise AssertionError("forwarded twice")

    forwarder = Forwarder("b")
    forwarder.transport = httpx.MockTransport(owner)
    answer = await forwarder.forward(request({FORWARDED_HEADER: "c"}), SessionElsewhere(SID, "a", "http://a"))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert answer.headers[NOT_OWNER_HEADER] == "a"  # the sender learns its idea of the owner was stale
    await forwarder.close()


async def test_an_owner_that_does_not_answer_is_503() -> None:
    def owner(sent: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    forwarder = Forwarder("b")
    forwarder.transport = httpx.MockTransport(owner)
    answer = await forwarder.forward(request({}), SessionElsewhere(SID, "a", "http://a"))
    assert answer.status_code == 503 and b"does not answer" in answer.body
    await forwarder.close()


class Streamed(httpx.AsyncBaseTransport):
    """Answers from ``handler`` as a real transport gives them: a body not read yet."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.handler(request)
        return httpx.Response(answer.status_code, headers=answer.headers, stream=httpx.ByteStream(answer.content))


class Leases:
    """The registry's lease lookup, scripted: ``holder`` is who holds the session now."""

    def __init__(self, holder: Owner | None) -> None:
        self.holder = holder
        self.asked = 0
        self.cluster = self

    async def owner(self, session_id: str, node_id: str) -> Owner | None:
        self.asked += 1
        return self.holder


async def test_an_owner_is_remembered_briefly_and_only_when_another_node_holds_it() -> None:
    leases = Leases(Owner("a", "http://a"))
    owners = OwnerLookup(leases, "b", ttl=0.2)  # type: ignore[arg-type]
    assert await owners.owner(SID) == Owner("a", "http://a")
    assert await owners.owner(SID) == Owner("a", "http://a") and leases.asked == 1
    owners.forget(SID)
    await owners.owner(SID)
    assert leases.asked == 2
    await asyncio.sleep(0.25)
    leases.holder = None  # hibernated meanwhile: the next lookup asks, and "no one" is not remembered
    assert await owners.owner(SID) is None and leases.asked == 3
    assert await owners.owner(SID) is None and leases.asked == 4


async def test_a_stale_owner_refuses_and_the_request_goes_to_the_node_that_holds_it_now() -> None:
    leases = Leases(Owner("a", "http://a"))
    owners = OwnerLookup(leases, "b")  # type: ignore[arg-type]
    await owners.owner(SID)  # remembered: a
    leases.holder = Owner("c", "http://c")  # the session moved to c since
    seen: list[str] = []

    def nodes(sent: httpx.Request) -> httpx.Response:
        seen.append(sent.url.host)
        if sent.url.host == "a":  # a re-checks its own lease and refuses, naming the holder
            return httpx.Response(503, headers={NOT_OWNER_HEADER: "c", "retry-after": "1"}, json={"detail": "not here"})
        return httpx.Response(200, json={"served_by": "c"})

    forwarder = Forwarder("b", owners)
    forwarder.transport = Streamed(nodes)
    stale = await owners.owner(SID)
    assert stale is not None and stale.node_id == "a" and leases.asked == 1
    answer = await forwarder.forward(request({}, b"{}"), SessionElsewhere(SID, stale.node_id, stale.url))
    assert seen == ["a", "c"] and answer.status_code == 200
    assert b"".join([chunk async for chunk in answer.body_iterator]) == b'{"served_by":"c"}'  # type: ignore[union-attr]
    assert await owners.owner(SID) == Owner("c", "http://c") and leases.asked == 2  # the fresh answer is remembered
    await forwarder.close()


async def test_a_refusal_with_no_other_holder_is_503_for_the_client_to_retry() -> None:
    leases = Leases(Owner("a", "http://a"))
    owners = OwnerLookup(leases, "b")  # type: ignore[arg-type]
    await owners.owner(SID)
    leases.holder = None  # hibernated on a: whichever node gets the retry wakes it

    def nodes(sent: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={NOT_OWNER_HEADER: "z"}, json={"detail": "not here"})

    forwarder = Forwarder("b", owners)
    forwarder.transport = httpx.MockTransport(nodes)
    answer = await forwarder.forward(request({}), SessionElsewhere(SID, "a", "http://a"))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1" and NOT_OWNER_HEADER not in answer.headers
    assert await owners.owner(SID) is None and leases.asked == 3  # forgotten, asked afresh (twice since)
    await forwarder.close()


async def test_an_owner_that_does_not_answer_is_forgotten() -> None:
    leases = Leases(Owner("a", "http://a"))
    owners = OwnerLookup(leases, "b")  # type: ignore[arg-type]
    await owners.owner(SID)

    def down(sent: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    forwarder = Forwarder("b", owners)
    forwarder.transport = httpx.MockTransport(down)
    answer = await forwarder.forward(request({}), SessionElsewhere(SID, "a", "http://a"))
    assert answer.status_code == 503
    await owners.owner(SID)
    assert leases.asked == 2  # not served from memory after the failure
    await forwarder.close()
