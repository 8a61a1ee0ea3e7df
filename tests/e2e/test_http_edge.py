"""The HTTP edge of a real server process (issue 16, items 5 and 16): header size and time limits,
a body that stalls, 401 before a body is read, and an access log without secrets.

Raw sockets, because an HTTP client library would not send what an attacker sends. No Claude
Code CLI is started (``--warm-sessions 0``)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from servers import ServerProcess, running_server

KEY = "edge-key-0123456789"
HEADER_TIMEOUT = 1.5
BODY_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    args = ("--warm-sessions", "0", "--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT), "--log-level", "info")
    with running_server(tmp_path_factory.mktemp("edge"), *args, api_key=KEY) as live:
        yield live


def connect(server: ServerProcess, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and the seconds that took."""
    started = time.monotonic()
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received, time.monotonic() - started


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 response (head and a ``Content-Length`` body), however the server's
    segments arrive."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed mid-response: {received[:200]!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed mid-body: {received[:200]!r}"
        body += chunk
    return head + b"\r\n\r\n" + body


def health_seconds(server: ServerProcess) -> float:
    started = time.monotonic()
    assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    return time.monotonic() - started


def test_oversized_headers_are_431_at_once_and_health_stays_fast(edge: ServerProcess) -> None:
    with connect(edge) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
        reply, seconds = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 431 ") and seconds < 1, (reply[:100], seconds)

    stop = threading.Event()

    def flood() -> None:  # an endless header, sent as fast as the server takes it
        with connect(edge) as sock:
            try:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
                while not stop.is_set():
                    sock.sendall(b"a" * 65536)
            except OSError:
                pass  # the server closed the connection: what it should do

    floods = [threading.Thread(target=flood) for _ in range(4)]
    for thread in floods:
        thread.start()
    try:
        assert max(health_seconds(edge) for _ in range(10)) < 0.5
    finally:
        stop.set()
        for thread in floods:
            thread.join(10)
    assert not any(thread.is_alive() for thread in floods), "the server kept reading an endless header"


def test_headers_that_never_finish_are_dropped_after_the_header_timeout(edge: ServerProcess) -> None:
    with connect(edge) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0")  # half a header line, then silence
        reply, seconds = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 408 ") and HEADER_TIMEOUT - 0.2 < seconds < HEADER_TIMEOUT + 2, (reply[:80], seconds)
    with connect(edge) as sock:  # a connection that never sends anything
        reply, seconds = read_until_closed(sock)
    assert reply == b"" and seconds < HEADER_TIMEOUT + 2
    with connect(edge) as sock:  # the timer runs from the request's first byte: a slow drip does not reset it
        started = time.monotonic()
        try:
            for piece in (b"GET /health HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"X-A: 1\r\n", b"X-B: 2\r\n", b"X-C: 3\r\n"):
                sock.sendall(piece)
                time.sleep(0.5)
        except OSError:
            pass
        reply, _ = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < HEADER_TIMEOUT + 2.5


def test_a_wrong_key_is_401_at_once_whatever_the_declared_body(edge: ServerProcess) -> None:
    for auth in (b"", b"Authorization: Bearer wrong\r\n", b"x-api-key: wrong\r\n"):
        with connect(edge) as sock:
            started = time.monotonic()
            sock.sendall(
                b"POST /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth
                + b"Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"  # 50 MB announced, none sent
            )
            status = read_response(sock)
            assert status.startswith(b"HTTP/1.1 401 ") and time.monotonic() - started < 1, status[:80]
            _, seconds = read_until_closed(sock)  # the body never comes: the connection ends after the body timeout
            assert seconds < BODY_TIMEOUT + 2


def test_a_stalled_body_is_dropped_and_a_slow_one_is_not(edge: ServerProcess) -> None:
    body = b'{"path": "/health", "method": "GET"}'  # /invocations forwards it to /health: no session is made

    def head(length: int) -> bytes:
        return (b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY.encode()
                + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(length).encode() + b"\r\n\r\n")

    with connect(edge) as sock:
        sock.sendall(head(len(body)) + body[:5])  # then silence
        reply, seconds = read_until_closed(sock)
    assert reply == b"" and BODY_TIMEOUT - 0.2 < seconds < BODY_TIMEOUT + 2
    with connect(edge, timeout=30) as sock:  # pauses shorter than the limit, longer than the limit in all
        sock.sendall(head(len(body)))
        for start in range(0, len(body), 10):
            time.sleep(BODY_TIMEOUT * 0.6)
            sock.sendall(body[start:start + 10])
        reply = read_response(sock)
    assert reply.startswith(b"HTTP/1.1 200 ") and b"healthy" in reply, reply[:200]


def test_pipelined_requests_are_still_answered_in_order(edge: ServerProcess) -> None:
    with connect(edge) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        reply, _ = read_until_closed(sock)
    assert reply.count(b"HTTP/1.1 200 OK") == 2 and reply.index(b"time_of_last_update") < reply.index(b"active_sessions")


def test_the_access_log_hides_key_like_query_values(edge: ServerProcess) -> None:
    query = {"api_key": "s3cret-one", "Token": "s3cret-two", "X-Amz-Signature": "s3cret-three", "limit": "1"}
    assert httpx.get(f"{edge.url}/health", params=query).status_code == 200
    deadline = time.monotonic() + 5
    while "GET /health?" not in edge.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    line = next(line for line in edge.log.read_text().splitlines() if "GET /health?" in line)
    assert "api_key=***" in line and "Token=***" in line and "X-Amz-Signature=***" in line and "limit=1" in line, line
    assert "s3cret" not in edge.log.read_text()


def test_a_websocket_upgrade_is_refused_cleanly(edge: ServerProcess) -> None:
    """No route takes a WebSocket: the upgrade is answered (403) and the server carries on."""
    with connect(edge) as sock:
        sock.sendall(
            b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        reply, _ = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 403 "), reply[:80]
    assert health_seconds(edge) < 1
