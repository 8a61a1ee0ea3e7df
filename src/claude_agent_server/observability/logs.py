"""The audit log: one structured line per turn and per permission decision.

Lines go to the logger ``claude_agent_server.audit`` at INFO as ``key=value``
pairs after a leading word (``turn`` or ``permission``); the same fields are on
the record as attributes (``extra``), for handlers that format JSON. Values with
spaces, quotes or ``=`` are JSON-quoted and a missing value is ``-``, so every line
stays one parsable line::

    turn session_id=3f… outcome=completed duration_s=4.21 turn_cost_usd=0.0123 session_cost_usd=0.0456 num_turns=2 reason=completed
    permission session_id=3f… request_id=7c… tool_name=Bash allowed=false reason=timeout wait_s=300.001

Durations are seconds, rounded to milliseconds; costs are USD: the turn's own and the
session's total after it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("claude_agent_server.audit")


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text)
    return text


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _line(kind: str, fields: dict[str, Any]) -> None:
    if log.isEnabledFor(logging.INFO):
        message = " ".join([kind, *(f"{key}={_value(value)}" for key, value in fields.items())])
        log.info(message, extra={"audit": kind, **fields})


def turn(session_id: str | None, outcome: str, duration_s: float | None, data: dict[str, Any]) -> None:
    """Log a turn's end.

    Args:
        session_id: The session.
        outcome: ``completed``, ``error`` or ``interrupted``.
        duration_s: Seconds from ``turn_started`` to the end (the CLI's ``duration_ms`` when
            the start was not seen; None when neither is known).
        data: The ``result`` or ``error`` event's data: ``turn_cost_usd`` (this turn),
            ``session_cost_usd`` (the session's total after it), ``num_turns``,
            ``terminal_reason`` or ``reason``. An ``error`` has no cost (``-``).
    """
    _line("turn", {
        "session_id": session_id,
        "outcome": outcome,
        "duration_s": _seconds(duration_s),
        "turn_cost_usd": data.get("turn_cost_usd"),
        "session_cost_usd": data.get("session_cost_usd"),
        "num_turns": data.get("num_turns"),
        "reason": data.get("terminal_reason") or data.get("reason"),
    })


def permission(
    session_id: str | None, request_id: Any, tool_name: str | None, allowed: bool, reason: Any, wait_s: float | None
) -> None:
    """Log a permission decision: who asked for which tool, the answer, why, and how long it waited (seconds)."""
    _line("permission", {
        "session_id": session_id,
        "request_id": request_id,
        "tool_name": tool_name,
        "allowed": allowed,
        "reason": reason,
        "wait_s": _seconds(wait_s),
    })
