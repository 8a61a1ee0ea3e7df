"""The forwarding hop: the request as received goes to the owner's URL; a forwarded request is never forwarded again."""

from __future__ import annotations

import json

import httpx
from starlette.requests import Request

from claude_agent_server.sessions.errors import SessionElsewhere
from claude_agent_server.web.forward import FORWARDED_HEADER, Forwarder

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
    forwarder.client = httpx.AsyncClient(transport=httpx.MockTransport(owner))
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
    forwarder.client = httpx.AsyncClient(transport=httpx.MockTransport(owner))
    answer = await forwarder.forward(request({FORWARDED_HEADER: "c"}), SessionElsewhere(SID, "a", "http://a"))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    await forwarder.close()


async def test_an_owner_that_does_not_answer_is_503() -> None:
    def owner(sent: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    forwarder = Forwarder("b")
    forwarder.client = httpx.AsyncClient(transport=httpx.MockTransport(owner))
    answer = await forwarder.forward(request({}), SessionElsewhere(SID, "a", "http://a"))
    assert answer.status_code == 503 and b"does not answer" in answer.body
    await forwarder.close()
