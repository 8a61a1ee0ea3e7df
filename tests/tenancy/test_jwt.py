"""Single sign-on: bearer JWTs verified against a JWKS this test serves itself (real HTTP)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from fakes import FakeClients
from tenancy_support import KEY, tenant_app

ISSUER, AUDIENCE = "https://idp.test", "agent-server"


@pytest.fixture(scope="module")
def keys() -> tuple[Any, Any]:
    return (rsa.generate_private_key(public_exponent=65537, key_size=2048), rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def jwks_url(keys: tuple[Any, Any]) -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(keys[0].public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


def token(key: Any, **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": "jules", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def test_jwts_accepted_and_refused(tmp_path: Path, jwks_url: str, keys: tuple[Any, Any]) -> None:
    good, other = keys
    app = tenant_app(tmp_path, FakeClients(), jwt_jwks_url=jwks_url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_role_claim="role")
    with TestClient(app, raise_server_exceptions=False) as http:
        def status(bearer: str, method: str = "GET", path: str = "/sessions") -> int:
            return http.request(method, path, headers={"authorization": f"Bearer {bearer}"}, json={} if method == "POST" else None).status_code

        assert status(token(good)) == 200  # a member, created on first sight
        assert status(token(good), "POST") == 201
        assert status(token(good, sub="vera", role="viewer"), "POST") == 403
        users = {u["name"]: u["role"] for u in http.get("/admin/users", headers={"x-api-key": KEY}).json()["users"]}
        assert users == {"jules": "member", "vera": "viewer"}
        for bad in (
            token(good, exp=int(time.time()) - 60),  # expired
            token(other),  # signed by another key
            token(good, iss="https://evil.test"),
            token(good, aud="someone-else"),
            "a.b.c",
        ):
            assert status(bad) == 401, bad
        audit = http.get("/audit", params={"action": "auth.failure"}, headers={"x-api-key": KEY}).json()["entries"]
        assert len(audit) == 5 and all(e["key_id"] is None for e in audit)
        owners = {s["owner"] for s in http.get("/sessions", headers={"x-api-key": KEY}).json()["sessions"]}
        assert owners == {"jules"}
