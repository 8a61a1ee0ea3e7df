"""OpenAI's error shape on every ``/v1`` path but ``/v1/messages*``: unknown paths and methods,
auth, validation, limits — so the ``openai`` SDK raises its typed errors with a message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fastapi.testclient import TestClient

from gateway.test_gateway_api import KEY, make_app, sdk
from fakes import FakeClients


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    with make_app(tmp_path, FakeClients()) as client:
        yield client


def _openai_error(reply: object) -> dict[str, object]:
    body = reply.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"} and body["error"]["message"], body
    return body["error"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/v1/completions", 404),
        ("POST", "/v1/embeddings", 404),
        ("GET", "/v1/assistants", 404),
        ("GET", "/v1/", 404),
        ("DELETE", "/v1/chat/completions", 405),
        ("PUT", "/v1/responses", 405),
        ("GET", "/v1/responses/resp_x/input_items?limit=0", 422),
        ("GET", "/v1/responses/not-an-id", 404),
    ],
)
def test_errors_under_v1_are_in_openais_shape(http: TestClient, method: str, path: str, status: int) -> None:
    reply = http.request(method, path, json={} if method in ("POST", "PUT") else None)
    assert reply.status_code == status, reply.text
    error = _openai_error(reply)
    assert error["type"] in ({"not_found_error", "invalid_request_error"} if status == 404 else {"invalid_request_error"})


def test_validation_names_the_parameter(http: TestClient) -> None:
    error = _openai_error(http.get("/v1/responses/resp_x/input_items", params={"limit": 0}))
    assert error["param"] == "limit" and "limit" in str(error["message"])


def test_auth_and_limits_are_in_openais_shape(http: TestClient) -> None:
    for path in ("/v1/completions", "/v1/responses"):
        denied = http.post(path, json={}, headers={"Authorization": "Bearer wrong"})
        assert denied.status_code == 401 and _openai_error(denied)["type"] == "authentication_error"
    wrong_type = http.post("/v1/responses", content=b"x", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415 and _openai_error(wrong_type)


def test_the_sdk_raises_not_found_with_a_message(http: TestClient) -> None:
    client = sdk(http)
    with pytest.raises(openai.NotFoundError) as missing:
        client.completions.create(model="sonnet", prompt="hi")
    assert "/v1/completions" in missing.value.message
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="sonnet", input="hi")


def test_anthropic_routes_keep_their_shape(http: TestClient) -> None:
    reply = http.post("/v1/messages", json={}, headers={"x-api-key": "wrong", "Authorization": ""})
    assert reply.status_code == 401 and reply.json()["type"] == "error"
    assert KEY
