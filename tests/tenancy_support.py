"""Helpers of the tenancy tests."""

from __future__ import annotations

from typing import Any


def created(t: Any, user: str, **body: Any) -> str:
    """A new session of ``user`` (REST); its id."""
    reply = t.call(user, "POST", "/sessions", json=body)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["session_id"])
