"""The durable registry: session records, the event log and the SDK's transcripts, in SQLite or PostgreSQL.

The session layer sees :class:`Registry` (the interface), the records it
carries, and :class:`SqlRegistry` (the implementation), opened with
``await SqlRegistry.open(default_database_url(data_dir), spill_path=...)`` and closed
with ``await registry.close()``; :class:`RegistryUnavailable` says the database
cannot be used now (what was enqueued is kept and written later). ``registry.transcripts`` is
the Claude Agent SDK's ``SessionStore`` on the same engine (:class:`SqlTranscriptStore` behind a
:class:`WriteBehindStore`). SQL, SQLAlchemy and Alembic stay inside this package.
"""

from .cluster import Claim, ClusterStore, Lease, NodeInfo, Owner
from .feed import EventFeed
from .engine import default_database_url, redacted
from .errors import RegistryUnavailable, StoreError
from .interface import Registry
from .records import EventRecord, SessionRecord, SessionState, utcnow
from .registry import SqlRegistry
from .outbox import Delivery, WebhookOutbox
from .parked import ParkedRecord, ParkedStore
from .responses import ResponseRecord, ResponseStore
from .spill import spill_path
from .transcripts import SqlTranscriptStore, TranscriptPlace
from .write_behind import WriteBehindStore
from .health import WriterHealth

__all__ = [
    "Delivery",
    "EventFeed",
    "Claim",
    "ClusterStore",
    "Lease",
    "NodeInfo",
    "Owner",
    "EventRecord",
    "Registry",
    "RegistryUnavailable",
    "ResponseRecord",
    "ResponseStore",
    "ParkedRecord",
    "ParkedStore",
    "SessionRecord",
    "SessionState",
    "SqlRegistry",
    "SqlTranscriptStore",
    "StoreError",
    "TranscriptPlace",
    "WebhookOutbox",
    "WriteBehindStore",
    "WriterHealth",
    "default_database_url",
    "redacted",
    "spill_path",
    "utcnow",
]
