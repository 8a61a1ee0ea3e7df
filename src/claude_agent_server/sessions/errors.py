"""Domain errors of the session layer. The HTTP layer maps them to status codes once.

Hierarchy::

    SessionError
    ├── SessionNotFound          no live session with that id (404)
    │   └── SessionMoved         this node lost the session to another node mid-request (503, Retry-After)
    ├── TranscriptNotFound       no transcript on disk with that id (404)
    ├── PermissionNotFound       no pending permission request with that id (404)
    ├── MessageNotFound          no transcript message with that id (404)
    ├── QueuedMessageNotFound    no queued message with that id (404)
    ├── InvalidSessionRequest    a malformed id, a cwd outside the workspace, ... (400)
    ├── PromptTooLarge           a prompt larger than Claude Code takes (413)
    ├── SessionConflict          the session is already live (409)
    ├── TurnInProgress           a turn is already running in the session (409)
    ├── QueuedMessageCancelled   the queued message was cancelled before it ran (409)
    ├── CommandRejected          the CLI refused a control request, e.g. a mode (409)
    ├── SpendingLimitReached     the owner's daily or monthly limit is reached (429; in .tenancy)
    ├── TooManySessions          every live slot is held by a busy session (503, Retry-After)
    ├── ServerShuttingDown       the server is stopping and takes no new work (503)
    └── SessionStartError        the Claude Code CLI failed to start (502)
"""

from __future__ import annotations


class SessionError(Exception):
    """Base of every session-layer error; ``detail`` is safe to show a client."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SessionNotFound(SessionError):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} not found (closed, or never created here)")
        self.session_id = session_id


class SessionMoved(SessionNotFound):
    """This node stopped the session's CLI because another node holds its lease now (this node
    stalled; see ``cluster.py``): a retry reaches the node that holds it."""

    def __init__(self, session_id: str) -> None:
        SessionError.__init__(self, f"session {session_id} moved to another node while this one stalled; retry")
        self.session_id = session_id
        self.retry_after = 1


class TranscriptNotFound(SessionError):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"no transcript for session {session_id}")
        self.session_id = session_id


class PermissionNotFound(SessionError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"permission request {request_id} is not pending (unknown, answered or expired)")
        self.request_id = request_id


class MessageNotFound(SessionError):
    def __init__(self, session_id: str, message_id: str) -> None:
        super().__init__(f"session {session_id} has no message {message_id}")
        self.message_id = message_id


class QueuedMessageNotFound(SessionError):
    def __init__(self, queue_id: str) -> None:
        super().__init__(f"no queued message {queue_id} (unknown, cancelled, or already running)")
        self.queue_id = queue_id


class InvalidSessionRequest(SessionError):
    """The request names something that cannot be used (bad id, cwd outside the workspace)."""


class PromptTooLarge(SessionError):
    """A prompt longer than Claude Code takes (see :mod:`.prompt`); nothing was sent."""

    def __init__(self, characters: int, limit: int) -> None:
        super().__init__(
            f"the prompt holds {characters} characters; Claude Code takes at most {limit} in one prompt "
            "(send it in parts, or put large documents in files the agent can read)"
        )
        self.characters = characters
        self.limit = limit


class SessionConflict(SessionError):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} is already live; send messages to it directly")
        self.session_id = session_id


class TurnInProgress(SessionError):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} is already running a turn; wait for it or interrupt it")
        self.session_id = session_id


class QueuedMessageCancelled(SessionError):
    def __init__(self, queue_id: str) -> None:
        super().__init__(f"the queued message {queue_id} was cancelled before it ran")
        self.queue_id = queue_id


class CommandRejected(SessionError):
    """Claude Code refused a control request; ``reason`` is its own words."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"Claude Code refused {command}: {reason}")
        self.command = command
        self.reason = reason


class TooManySessions(SessionError):
    """Every one of the ``limit`` live sessions is busy, so none can be hibernated to make room."""

    def __init__(self, limit: int, retry_after: int = 5) -> None:
        super().__init__(
            f"all {limit} live sessions are busy (a turn running or a permission pending); retry in {retry_after} s"
        )
        self.limit = limit
        self.retry_after = retry_after
        """Seconds a client should wait before retrying (the ``Retry-After`` header)."""


class ServerShuttingDown(SessionError):
    def __init__(self) -> None:
        super().__init__("the server is shutting down and takes no new turns or sessions")
        self.retry_after = 5


class SessionStartError(SessionError):
    """The Claude Code CLI did not start; ``stderr`` holds its last words, if any."""

    def __init__(self, reason: str, stderr: str | None = None, exit_code: int | None = None) -> None:
        detail = f"Claude Code failed to start: {reason}"
        if stderr and stderr.strip() not in reason:
            detail += f" ({stderr.strip()})"
        super().__init__(detail)
        self.reason = reason
        self.stderr = stderr
        self.exit_code = exit_code


class SessionElsewhere(Exception):
    """The session is live on another node of the cluster; the request goes there.

    Not a :class:`SessionError`: the web layer forwards the request to ``url`` (see
    ``web/forward.py``) rather than answering with an error.

    Attributes:
        session_id: The session.
        node_id: The node holding its lease.
        url: Where that node is reached (None: it never said).
    """

    def __init__(self, session_id: str, node_id: str, url: str | None) -> None:
        super().__init__(f"session {session_id} is live on node {node_id}")
        self.session_id = session_id
        self.node_id = node_id
        self.url = url
