"""Fake model providers for the upstream pass-through tests: Bedrock, Vertex, a Google token endpoint.

Each answers with the demo model's replies in its provider's own framing, and records what it
received (path, headers, body) so a test can check what the server sent on its sessions' behalf:

- :func:`bedrock_app`: ``POST /model/{id}/invoke[-with-response-stream]``; the stream is AWS's
  binary event stream (``application/vnd.amazon.eventstream``: each Anthropic event a ``chunk``
  whose JSON payload holds it base64-encoded in ``bytes``), built by :func:`event_frame`;
  :func:`sigv4_valid` checks a request's SigV4 signature with botocore.
- :func:`vertex_app`: ``POST /v1/projects/{p}/locations/{r}/publishers/anthropic/models/{m}:streamRawPredict``
  (Anthropic's SSE) and ``/token`` (an OAuth token endpoint that google-auth refreshes from).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

from botocore.auth import SigV4Auth
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from claude_agent_server.demo.model import reply_to
from claude_agent_server.demo.routes import _message, _stream, create_message


def event_frame(payload: bytes, headers: dict[str, str]) -> bytes:
    """One AWS event-stream message: prelude (total and headers length, CRC32), string headers, payload, CRC32."""
    encoded = b"".join(
        bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode() for name, value in headers.items()
    )
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def chunk(event: dict[str, Any]) -> bytes:
    """A Bedrock ``InvokeModelWithResponseStream`` chunk carrying one Anthropic stream event."""
    payload = json.dumps({"bytes": base64.b64encode(json.dumps(event).encode()).decode()}).encode()
    return event_frame(payload, {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"})


AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})")


def sigv4_valid(seen: dict[str, Any], secret: str) -> bool:
    """Whether a request recorded by :func:`record` carries a SigV4 signature that ``secret`` made
    (recomputed with botocore over the received method, raw path, signed headers and body)."""
    match = AUTHORIZATION.fullmatch(seen["headers"].get("authorization", ""))
    if match is None:
        return False
    key_id, _, region, service, signed, signature = match.groups()
    headers = {name: seen["headers"][name] for name in signed.split(";") if name != "host"}
    request = AWSRequest(method="POST", url=f"http://{seen['headers']['host']}{seen['raw_path']}", data=seen["body"], headers=headers)
    request.context["timestamp"] = seen["headers"]["x-amz-date"]
    signer = SigV4Auth(Credentials(key_id, secret, seen["headers"].get("x-amz-security-token")), service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return hmac.compare_digest(expected, signature)


async def record(request: Request, seen: list[dict[str, Any]]) -> dict[str, Any]:
    """Note the request (path as received, lower-case headers, body bytes) and return its JSON body."""
    body = await request.body()
    seen.append({"path": request.url.path, "raw_path": request.scope["raw_path"].decode(), "headers": dict(request.headers), "body": body})
    return json.loads(body) if body else {}


async def _events(body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    async for frame in _stream(body, reply_to(body)):
        yield json.loads(frame["data"])


def anthropic_app(seen: list[dict[str, Any]]) -> FastAPI:
    """An "Anthropic" upstream: the demo model's replies, recording each request's headers."""
    app = FastAPI()

    @app.post("/v1/messages")
    async def messages(request: Request) -> Any:
        seen.append(dict(request.headers))
        return await create_message(request)

    @app.post("/v1/messages/count_tokens")
    async def count(request: Request) -> dict[str, int]:
        seen.append(dict(request.headers))
        return {"input_tokens": 1}

    return app


def bedrock_app(seen: list[dict[str, Any]]) -> FastAPI:
    """A Bedrock runtime answering with the demo model (streamed as an event stream, or plain JSON)."""
    app = FastAPI()

    @app.post("/model/{model:path}/{action}")
    async def invoke(request: Request, model: str, action: str) -> Any:
        body = await record(request, seen) | {"model": model}
        if action == "invoke":
            reply = reply_to(body)
            return JSONResponse(_message(body, reply, reply.content))

        async def frames() -> AsyncIterator[bytes]:
            async for event in _events(body):
                yield chunk(event)

        return StreamingResponse(frames(), media_type="application/vnd.amazon.eventstream", headers={"x-amzn-requestid": "fake-req-1"})

    return app


def service_account(token_uri: str, client_email: str = "agents@proj-fake.iam.gserviceaccount.com") -> dict[str, str]:
    """A Google service-account key file's content (a fresh RSA key) whose tokens come from ``token_uri``
    (google-auth honours a service account's ``token_uri``; an ``authorized_user`` file's is always Google's)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return {
        "type": "service_account", "project_id": "proj-fake", "private_key_id": "fake-key-1", "private_key": pem,
        "client_email": client_email, "client_id": "1", "token_uri": token_uri,
    }


def vertex_app(seen: list[dict[str, Any]], tokens: list[str]) -> FastAPI:
    """Vertex's Anthropic models (demo replies as SSE) and a token endpoint that hands out ``ya29.fake-<n>``."""
    app = FastAPI()

    @app.post("/token")
    async def token(request: Request) -> dict[str, Any]:
        form = (await request.body()).decode()
        assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in form and "assertion=" in form
        tokens.append(f"ya29.fake-{len(tokens) + 1}")
        return {"access_token": tokens[-1], "expires_in": 3600, "token_type": "Bearer"}

    @app.post("/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{call}")
    async def predict(request: Request, project: str, region: str, call: str) -> Any:
        model, _, action = call.rpartition(":")
        body = await record(request, seen) | {"model": model}
        if action == "rawPredict":
            reply = reply_to(body)
            return JSONResponse(_message(body, reply, reply.content))

        async def sse() -> AsyncIterator[bytes]:
            async for event in _events(body):
                yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()

        return StreamingResponse(sse(), media_type="text/event-stream")

    return app
