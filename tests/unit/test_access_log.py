"""The access log's query redaction (issue 16, item 16)."""

from __future__ import annotations

import logging

from claude_agent_server.observability.access_log import RedactQuery, redact_query


def test_key_like_values_are_masked_and_the_rest_kept() -> None:
    assert redact_query("/sessions?api_key=abc&limit=5") == "/sessions?api_key=***&limit=5"
    assert redact_query("/x?KEY=1&Token=2&access_token=3&password=4&secret=5&auth=6&Authorization=7&signature=8") == (
        "/x?KEY=***&Token=***&access_token=***&password=***&secret=***&auth=***&Authorization=***&signature=***"
    )
    assert redact_query("/x?apikey=1&x-api-key=2&client_secret=3&X-Amz-Signature=4&X-Amz-Credential=5&sig=6") == (
        "/x?apikey=***&x-api-key=***&client_secret=***&X-Amz-Signature=***&X-Amz-Credential=***&sig=***"
    )
    assert redact_query("/x?api%5Fkey=1&a=%20b&flag&empty=") == "/x?api%5Fkey=***&a=%20b&flag&empty="
    assert redact_query("/x?token=a=b&token=c") == "/x?token=***&token=***"  # every occurrence, '=' in values too
    for untouched in ("/sessions", "/sessions?limit=5&offset=10&cwd=/tmp", "/sessions/abc/events?after=7", "/x?"):
        assert redact_query(untouched) == untouched


def test_the_filter_rewrites_uvicorns_access_record() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/health?token=t0p&x=1", "1.1", 200), None,
    )
    assert RedactQuery().filter(record) is True
    assert record.getMessage() == '127.0.0.1:5 - "GET /health?token=***&x=1 HTTP/1.1" 200'
    other = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "plain %s", ("text?token=1",), None)
    assert RedactQuery().filter(other) and other.getMessage() == "plain text?token=1"  # not an access record's shape
