"""The durable registry: session records, the event log and the SDK's transcripts, in SQLite or PostgreSQL.

The session layer sees :class:`Registry` (the interface), the records it
carries, and :class:`SqlRegistry` (the implementation), opened with
``await SqlRegistry.open(default_database_url(data_dir))`` and closed with
``await registry.close()``. ``registry.transcripts`` is the Claude Agent SDK's
``SessionStore`` on the same engine (:class:`SqlTranscriptStore` behind a
:class:`WriteBehindStore`). SQL, SQLAlchemy and Alembic stay inside this package.
"""

from .engine import default_database_url, redacted
from .interface import Registry
from .records import EventRecord, SessionRecord, SessionState, utcnow
from .registry import SqlRegistry
from .transcripts import SqlTranscriptStore
from .write_behind import WriteBehindStore

__all__ = [
    "EventRecord",
    "Registry",
    "SessionRecord",
    "SessionState",
    "SqlRegistry",
    "SqlTranscriptStore",
    "WriteBehindStore",
    "default_database_url",
    "redacted",
    "utcnow",
]
