"""The registry's tables: ``sessions`` (one row per record), ``events`` (the event log),
``session_aliases`` (adapters' names for sessions), and the SDK's transcript store:
``transcripts`` (one row per transcript key) and ``transcript_entries`` (its lines); ``responses``
(the OpenAI Responses API's stored responses).
``session_aliases`` (adapters' names for sessions), the SDK's transcript store:
``transcripts`` (one row per transcript key) and ``transcript_entries`` (its lines), and the
tenancy tables: ``users``, ``api_keys`` and ``audit``.

Constraint and index names follow ``NAMING_CONVENTION`` so that Alembic's
batch mode (SQLite table rebuilds) can find and recreate them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import JSONText, JSONType, Timestamp

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: Timestamp, dict[str, Any]: JSONType}


class SessionRow(Base):
    """A :class:`~.records.SessionRecord`, column for field."""

    __tablename__ = "sessions"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    last_activity: Mapped[datetime] = mapped_column(index=True)
    title: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(32))
    turns: Mapped[int]
    cost_usd: Mapped[float]
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    agentcore_session_id: Mapped[str | None] = mapped_column(String(256), unique=True, index=True)
    origin: Mapped[str] = mapped_column(String(32), server_default="rest")
    owner: Mapped[str | None] = mapped_column(String(128), index=True)


class AliasRow(Base):
    """Another name of a session, unique within its ``namespace``: an adapter's own id
    for it (``opencode``: ``ses_...``) or a key it is found by (``gateway``: a
    conversation-history hash)."""

    __tablename__ = "session_aliases"

    namespace: Mapped[str] = mapped_column(String(32), primary_key=True)
    alias: Mapped[str] = mapped_column(String(256), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime]


class EventRow(Base):
    """An :class:`~.records.EventRecord`; ``id`` is the server's (microseconds, not autoincrement)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_session_id_id", "session_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    session_id: Mapped[str | None] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[str] = mapped_column(String(40))
    server: Mapped[bool]


# INTEGER on SQLite makes a single-column primary key the rowid (so it autoincrements); BIGSERIAL on PostgreSQL.
_ROW_ID = BigInteger().with_variant(Integer, "sqlite")


class TranscriptRow(Base):
    """One transcript of the SDK's ``SessionStore``: a session's main transcript
    (``subpath`` ``""``) or one of its subagents' (``subpath`` ``"subagents/agent-<id>"``)."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("project_key", "session_id", "subpath", name="uq_transcripts_key"),)

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    project_key: Mapped[str] = mapped_column(Text)
    session_id: Mapped[str] = mapped_column(Text)
    subpath: Mapped[str] = mapped_column(Text)
    mtime: Mapped[int] = mapped_column(BigInteger)
    """Unix epoch milliseconds of the last append; grows by at least 1 with each append."""
    summary: Mapped[Any | None] = mapped_column(JSONText)
    """The SDK's folded summary state (``SessionSummaryEntry.data``) of a main transcript; NULL for a subpath."""


class TranscriptEntryRow(Base):
    """One line of a transcript, in append order (``id``); ``uuid`` is the entry's own, if it has one."""

    __tablename__ = "transcript_entries"
    __table_args__ = (
        UniqueConstraint("transcript_id", "uuid", name="uq_transcript_entries_transcript_id_uuid"),
        Index("ix_transcript_entries_transcript_id_id", "transcript_id", "id"),
    )

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id"))
    uuid: Mapped[str | None] = mapped_column(Text)
    entry: Mapped[Any] = mapped_column(JSONText)


class ResponseRow(Base):
    """A stored OpenAI Responses-API response: the session and the turn that produced it.

    ``turn`` is the session's turn count once this response's turn ended (the session's
    latest response has ``turn`` equal to the session's ``turns``); ``message_uuid`` is the
    transcript's last message after that turn (where a fork continuing this response is cut).
    ``body`` is the response object as returned, ``input`` its input items.
    """

    __tablename__ = "responses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    turn: Mapped[int]
    message_uuid: Mapped[str | None] = mapped_column(String(64))
    previous_response_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    body: Mapped[Any] = mapped_column(JSONText)
    input: Mapped[Any] = mapped_column(JSONText)
class UserRow(Base):
    """A user of the server: a role and optional spending limits (USD per UTC day and month)."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    daily_usd: Mapped[float | None]
    monthly_usd: Mapped[float | None]
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    """A user's API key, stored only as the SHA-256 of the whole key; ``key_id`` is the
    public part of the key (``cas_<key_id>_<secret>``) that finds the row."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditRow(Base):
    """One authenticated change (or failed sign-in): who, from where, what, on which session, the outcome."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    user_name: Mapped[str | None] = mapped_column(String(128), index=True)
    key_id: Mapped[str | None] = mapped_column(String(256))
    client: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[int]


sessions = SessionRow.__table__
events = EventRow.__table__
aliases = AliasRow.__table__
transcripts = TranscriptRow.__table__
transcript_entries = TranscriptEntryRow.__table__
responses = ResponseRow.__table__


class ParkedPermissionRow(Base):
    """A pending permission request, kept across restarts and nodes (see :mod:`.parked`):
    ``parked_at`` is set once its CLI stopped without answering it, ``decision`` once it is answered."""

    __tablename__ = "parked_permissions"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    tool_use_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    request: Mapped[Any] = mapped_column(JSONText)
    decision: Mapped[Any | None] = mapped_column(JSONText)
    parked_at: Mapped[datetime | None]
    """When its CLI stopped without answering it; NULL while a CLI still waits on it."""


parked_permissions = ParkedPermissionRow.__table__


class NodeRow(Base):
    """One server process of the cluster: where it is reached and when it last said it was alive."""

    __tablename__ = "nodes"

    node_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    live_sessions: Mapped[int]
    stopped: Mapped[bool]


class LeaseRow(Base):
    """The node that runs a live session's CLI, until ``expires_at`` (renewed by its heartbeat)."""

    __tablename__ = "session_leases"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(255), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


nodes = NodeRow.__table__
leases = LeaseRow.__table__
users = UserRow.__table__
api_keys = ApiKeyRow.__table__
audit = AuditRow.__table__


class WebhookOutboxRow(Base):
    """One webhook delivery waiting to be made (see :mod:`.outbox`): the exact JSON ``body`` to POST
    to ``url`` (its Standard Webhooks ``message_id``); ``claimed_by`` a node until ``claimed_until``."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (UniqueConstraint("message_id", "url", name="uq_webhook_outbox_delivery"),)

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_until: Mapped[datetime | None]


webhook_outbox = WebhookOutboxRow.__table__
