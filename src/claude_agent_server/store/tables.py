"""The registry's tables: ``sessions`` (one row per record), ``events`` (the event log)
and ``session_aliases`` (adapters' names for sessions).

Constraint and index names follow ``NAMING_CONVENTION`` so that Alembic's
batch mode (SQLite table rebuilds) can find and recreate them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import JSONType, Timestamp

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


sessions = SessionRow.__table__
events = EventRow.__table__
aliases = AliasRow.__table__
