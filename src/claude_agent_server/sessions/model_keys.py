"""Model keys: the credential each session's CLI presents to this server's model endpoints.

A key is issued when a CLI process starts and revoked when it stops; it opens the
model endpoints (``/v1/messages*``, ``/demo/v1/...``) only, never the server's own
API, so a tool that reads its environment learns nothing that opens more.
"""

from __future__ import annotations

import secrets


class ModelKeys:
    """Live model keys, one per session process."""

    def __init__(self) -> None:
        self._by_key: dict[str, str] = {}
        self._by_session: dict[str, str] = {}

    def issue(self, session_id: str) -> str:
        """A fresh key for the session's new process (its previous key is revoked)."""
        self.revoke(session_id)
        key = secrets.token_urlsafe(32)
        self._by_key[key] = session_id
        self._by_session[session_id] = key
        return key

    def revoke(self, session_id: str) -> None:
        """The session's process stopped: its key opens nothing any more."""
        key = self._by_session.pop(session_id, None)
        if key is not None:
            del self._by_key[key]

    def valid(self, key: str) -> bool:
        """Whether ``key`` belongs to a session whose CLI runs."""
        return key in self._by_key
