"""Errors of the registry, and which database failures mean "unreachable".

Hierarchy::

    StoreError
    └── RegistryUnavailable   the database cannot be reached (or is still being caught up
                              with what was written while it could not); retry later
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import exc as sa

_UNREACHABLE_SQLSTATES = ("08", "53", "57P")
"""SQLSTATE classes: connection exception, insufficient resources, operator intervention."""


class StoreError(Exception):
    """Base of the registry's own errors."""


class RegistryUnavailable(StoreError):
    """The registry's database cannot be used now; what was enqueued is kept and written later.

    Attributes:
        since: When the database stopped answering (UTC), None if unknown.
        retry_after: Whole seconds after which a retry may succeed (at least 1).
        reason: What failed, in one line (no credentials).
    """

    def __init__(self, reason: str, *, since: datetime | None = None, retry_after: float = 5.0) -> None:
        super().__init__(f"the session registry's database is unavailable: {reason}")
        self.reason = reason
        self.since = since
        self.retry_after = max(1, math.ceil(retry_after))


def is_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the database could not be reached or the connection broke
    (retrying later may succeed); False for errors of the statement or its data."""
    if isinstance(exc, OSError | TimeoutError | sa.TimeoutError | sa.OperationalError | sa.InterfaceError | sa.DisconnectionError):
        return True
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    origin = getattr(exc, "orig", None) or exc
    code = getattr(origin, "sqlstate", None) or getattr(origin, "pgcode", None)
    return isinstance(code, str) and code.startswith(_UNREACHABLE_SQLSTATES)


def one_line(exc: BaseException) -> str:
    """``exc`` as one short line for logs and health reports."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}".rstrip(": ")
