"""The access log without secrets: values of key-like query parameters become ``***``.

uvicorn's access log (logger ``uvicorn.access``) prints each request's path with its
query string, so a client that puts a key in the URL (``?api_key=...``) would leave it
in every log line. :class:`RedactQuery` rewrites the path argument of those records::

    GET /sessions?api_key=s3cret&limit=5   →   GET /sessions?api_key=***&limit=5

A parameter is key-like when its name (case-insensitive, ``-`` read as ``_``) is one
of :data:`SECRET_NAMES` or ends with one of :data:`SECRET_SUFFIXES` (``x_api_key``,
``refresh_token``, ``client_secret``, ``X-Amz-Signature``, ...).
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
SECRET_NAMES = frozenset({"auth", "authorization", "sig", "pwd", "pass", "code_verifier", "jwt"})
SECRET_SUFFIXES = ("key", "token", "secret", "password", "passwd", "signature", "credential", "credentials")
MASK = "***"


def is_secret_name(name: str) -> bool:
    """Whether a query parameter named ``name`` (raw, percent-encoded or not) carries a secret."""
    normal = unquote_plus(name).strip().lower().replace("-", "_")
    return normal in SECRET_NAMES or normal.endswith(SECRET_SUFFIXES)


def redact_query(target: str) -> str:
    """``path?query`` with the values of key-like parameters replaced by ``***`` (order and
    the other parameters kept byte for byte)."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    fields = []
    for field in query.split("&"):
        name, equals, _ = field.partition("=")
        fields.append(f"{name}={MASK}" if equals and is_secret_name(name) else field)
    return f"{path}?{'&'.join(fields)}"


class RedactQuery(logging.Filter):
    """Redacts the path argument of uvicorn's access records (``client, method, path, version, status``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    """Install :class:`RedactQuery` on uvicorn's access logger (once; call after ``uvicorn.Config``,
    which configures logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQuery) for f in logger.filters):
        logger.addFilter(RedactQuery())
