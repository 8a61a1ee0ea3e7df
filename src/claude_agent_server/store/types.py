"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

JSONType = JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
"""JSON: JSONB on PostgreSQL, SQLite's JSON text elsewhere; Python None is SQL NULL."""


class Timestamp(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every dialect.

    Binds refuse naive datetimes; SQLite keeps UTC wall time without an offset
    (so text order is time order) and results come back aware, in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Check and normalize a value on its way to the database.

        Raises:
            ValueError: ``value`` is naive.
        """
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: registry times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return a value read from the database as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """Any JSON value kept as compact JSON text (``TEXT`` on every dialect), read back with ``json.loads``.

    For documents the database never looks inside (transcript entries): the text
    is stored as written, and it takes what PostgreSQL's ``JSONB`` refuses, such
    as a ``\\u0000`` in a string. Non-ASCII characters are ``\\u`` escapes, so a lone
    surrogate from the CLI's JSON cannot make the UTF-8 encoding fail.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Serialize a value on its way to the database (None stays SQL NULL).

        Raises:
            TypeError: ``value`` holds something JSON cannot represent.
        """
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        """Parse a value read from the database."""
        return None if value is None else json.loads(value)
