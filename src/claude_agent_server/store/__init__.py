"""The durable registry: session records and the event log, in SQLite or PostgreSQL.

The session layer sees :class:`Registry` (the interface), the records it
carries, and :class:`SqlRegistry` (the implementation), opened with
``await SqlRegistry.open(default_database_url(data_dir), spill_path=...)`` and closed
with ``await registry.close()``; :class:`RegistryUnavailable` says the database
cannot be used now (what was enqueued is kept and written later). SQL, SQLAlchemy and Alembic stay inside this package.
"""

from .engine import default_database_url, redacted
from .errors import RegistryUnavailable, StoreError
from .interface import Registry
from .records import EventRecord, SessionRecord, SessionState, utcnow
from .registry import SqlRegistry
from .spill import spill_path
from .writer import WriterHealth

__all__ = [
    "EventRecord",
    "Registry",
    "RegistryUnavailable",
    "SessionRecord",
    "SessionState",
    "SqlRegistry",
    "StoreError",
    "WriterHealth",
    "default_database_url",
    "redacted",
    "spill_path",
    "utcnow",
]
