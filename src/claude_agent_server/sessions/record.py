"""A session record seen from the API (its list entry) and the totals a turn's result adds to it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..store import SessionRecord

PROMPT_TOKENS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def record_entry(record: SessionRecord, status: str) -> dict[str, Any]:
    """A session's list entry: ids, times (UTC ISO-8601), status, state, title, totals
    (turns, cost in USD, tokens), cwd, the model (None: the default) and permission
    mode it runs with, its origin (the API that created it) and, for a fork, ``forked_from``."""
    return {
        "session_id": record.session_id,
        "created_at": _iso(record.created_at),
        "last_activity": _iso(record.last_activity),
        "title": record.title,
        "status": status,
        "state": record.state,
        "turns": record.turns,
        "cost_usd": round(record.cost_usd, 6),
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cwd": record.spec.get("cwd"),
        "model": record.spec.get("model"),
        "permission_mode": record.spec.get("permission_mode"),
        "origin": record.origin,
        "forked_from": record.spec.get("forked_from"),
        "owner": record.owner,
    }


def add_result(record: SessionRecord, result: dict[str, Any], process_cost: float) -> tuple[float, float]:
    """Add one turn's ``result`` event data to the record's totals.

    The CLI reports a running total in USD: of its process, plus the transcript's
    earlier cost when it was started by resume, so only the growth since
    ``process_cost`` (the last total it reported) is this turn's.

    Returns:
        ``(process_cost, turn_cost)``: the new running total and this turn's cost, in USD.
    """
    record.turns += 1
    total = float(result.get("cost_usd") or 0.0)
    turn_cost = max(total - process_cost, 0.0)
    record.cost_usd += turn_cost
    usage = result.get("usage") or {}
    record.input_tokens += sum(int(usage.get(k) or 0) for k in PROMPT_TOKENS)
    record.output_tokens += int(usage.get("output_tokens") or 0)
    return total, turn_cost
