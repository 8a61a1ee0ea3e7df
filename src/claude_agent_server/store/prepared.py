"""Statements compiled once to SQLite's SQL and run on the DBAPI connection with ``executemany``.

The registry writer's batch (a turn's events and its record, what the turn's reply waits
for) and the transcript appends (the SDK's mirror of each line the CLI writes) are the
hottest writes. Through SQLAlchemy's ``Connection.execute`` most of their time went to the
execution machinery (the statement's cache key, the compiled parameters of each row, the
result), not to SQLite; and an append in the write thread held the GIL the event loop waits
for. A :class:`Prepared` keeps what that machinery derives from a statement — its SQL, its
parameters in order and each column type's bind processor (so a value is stored exactly as
SQLAlchemy stores it) — and hands the rows to the DBAPI connection directly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable

__all__ = ["Prepared"]

_FROM_ROW = object()
"""A parameter's value comes from the row (a column), not from the statement (a constant)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement compiled for SQLite with positional parameters.

    Attributes:
        sql: The statement's SQL text (``?`` parameters).
        params: Per parameter, in order: its column key, its constant value (or ``_FROM_ROW``)
            and its bind processor (None: the value goes as it is).
    """

    sql: str
    params: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]

    @classmethod
    def of(cls, stmt: Executable, dialect: Dialect, keys: Sequence[str] | None = None) -> Prepared:
        """Compile ``stmt`` for ``dialect``. ``keys`` name the parameters each row gives (default:
        every column of an ``INSERT``'s table); every other parameter keeps the value it has in ``stmt``.

        Raises:
            ValueError: ``dialect`` is not SQLite's (its parameters are not positional ``?``).
        """
        if dialect.name != "sqlite" or dialect.paramstyle != "qmark":
            raise ValueError(f"prepared statements are for SQLite's qmark parameters, not {dialect.name}/{dialect.paramstyle}")
        if keys is None:
            keys = [c.key for c in stmt.table.columns]  # type: ignore[attr-defined]
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
        params = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            value = _FROM_ROW if name in keys else bind.value
            params.append((name, value, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        return cls(str(compiled), tuple(params))

    def parameters(self, row: Mapping[str, Any]) -> list[Any]:
        """The positional parameters of one row (a dict with every column's key).

        Raises:
            KeyError: The row lacks a column.
            ValueError, TypeError: A bind processor refused a value.
        """
        return [
            (row[name] if process is None else process(row[name])) if value is _FROM_ROW else value
            for name, value, process in self.params
        ]

    def execute(self, db: sqlite3.Connection, row: Mapping[str, Any]) -> list[Any]:
        """Run the statement for one row on ``db``; the rows it returns (``RETURNING``), as the driver gives them."""
        return db.execute(self.sql, self.parameters(row)).fetchall()

    def executemany(self, db: sqlite3.Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        """Run the statement once per row on ``db`` (inside the caller's transaction); returns
        how many rows it changed (an ``ON CONFLICT DO NOTHING`` skip changes none)."""
        before = db.total_changes
        db.executemany(self.sql, [self.parameters(row) for row in rows])
        return db.total_changes - before
