"""The one place that knows which dialect's INSERT has ``ON CONFLICT``.

The statements are built once per dialect, table and key, and reused: building an
upsert (its ``excluded`` columns) and its cache key costs more than running it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert(dialect: Dialect, table: Table) -> Insert:
    """The dialect's own ``INSERT`` (it has ``on_conflict_do_nothing`` and ``on_conflict_do_update``).

    Raises:
        KeyError: The dialect is neither SQLite nor PostgreSQL.
    """
    return _INSERTS[dialect.name](table)


def insert_ignoring(dialect: Dialect, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING <primary key>``: rows
    whose key is already present are skipped; the result lists those inserted.

    Raises:
        KeyError: The dialect is neither SQLite nor PostgreSQL.
    """
    return _insert_ignoring(dialect.name, table)


@cache
def _insert_ignoring(dialect: str, table: Table) -> Insert:
    return _INSERTS[dialect](table).on_conflict_do_nothing().returning(*table.primary_key)


def upsert(dialect: Dialect, table: Table, key: Sequence[str]) -> Insert:
    """``INSERT ... ON CONFLICT (key) DO UPDATE``, setting every other column.

    Raises:
        KeyError: The dialect is neither SQLite nor PostgreSQL.
    """
    return _upsert(dialect.name, table, tuple(key))


@cache
def _upsert(dialect: str, table: Table, key: tuple[str, ...]) -> Insert:
    stmt = _INSERTS[dialect](table)
    return stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key},
    )
