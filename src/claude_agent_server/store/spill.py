"""The spill file: rows that wait for the database, kept on local disk in the order they came.

One JSON object per line, ``{"event": <events row>}`` or ``{"record": <sessions row>}``
(a record's datetimes as ISO-8601). :meth:`SpillFile.append` writes and fsyncs;
:meth:`SpillFile.read` reads rows back from a byte offset, oldest first, and the
writer moves :attr:`SpillFile.offset` past what the database has taken. The file
is removed once everything in it is written. Its methods block: call them in a thread.

A line cut short by a crash (no final newline) is cut off when the file is opened;
a line that does not parse is skipped and counted in :attr:`SpillFile.unreadable`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

log = logging.getLogger(__name__)

_RECORD_TIMES = ("created_at", "last_activity")
Row = dict[str, Any]


def spill_path(data_dir: Path, url: str) -> Path:
    """The spill file of the registry at ``url`` for a server whose data lives in ``data_dir``:
    ``<data_dir>/registry-spill/<hash of the URL without its password>.jsonl``, so rows
    spilled for one database are never written into another."""
    try:
        key = make_url(url).set(password=None).render_as_string(hide_password=False)
    except Exception:
        key = url
    return data_dir / "registry-spill" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.jsonl"


@dataclass(slots=True)
class Chunk:
    """Rows read from the spill file: ``events`` and ``records`` (newest snapshot of each
    session only) up to byte ``end``; ``event_lines`` counts the event lines read."""

    events: list[Row]
    records: list[Row]
    end: int
    event_lines: int


class SpillFile:
    """One spill file (created on the first :meth:`append`, mode 0600).

    Attributes:
        offset: Bytes already written to the database (the next :meth:`read` starts here).
        size: Bytes in the file.
        events: Event lines after :attr:`offset`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.size = 0
        self.events = 0
        self.unreadable = 0
        self.failing = False
        """The last :meth:`try_append` failed."""
        if path.exists():
            self._load()

    @property
    def pending(self) -> bool:
        """True while rows in the file wait for the database."""
        return self.offset < self.size

    @property
    def pending_bytes(self) -> int:
        return self.size - self.offset

    def append(self, events: list[Row], records: list[Row]) -> int:
        """Append rows, then fsync. Returns the bytes written.

        Raises:
            OSError: The file could not be written (nothing counts as spilled then).
        """
        lines = [_encode({"event": row}) for row in events] + [_encode({"record": _record_out(row)}) for row in records]
        data = b"".join(lines)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, self.size)  # drop the tail of a write that failed half-way
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        self.size += len(data)
        self.events += len(events)
        return len(data)

    def try_append(self, events: list[Row], records: list[Row]) -> OSError | None:
        """:meth:`append`, logging the first failure in a row and the recovery. Returns the error, or None."""
        try:
            self.append(events, records)
        except OSError as exc:
            if not self.failing:
                log.error("registry: cannot write the spill file %s: %s", self.path, exc)
            self.failing = True
            return exc
        if self.failing:
            log.warning("registry: the spill file %s can be written again", self.path)
            self.failing = False
        return None

    def read(self, max_rows: int) -> Chunk:
        """Up to ``max_rows`` rows from :attr:`offset`, oldest first (records deduplicated:
        a later snapshot of a session replaces an earlier one)."""
        events: list[Row] = []
        records: dict[str, Row] = {}
        event_lines = rows = 0
        with self.path.open("rb") as file:
            file.seek(self.offset)
            end = self.offset
            while rows < max_rows and end < self.size:
                line = file.readline()
                if not line.endswith(b"\n"):
                    break
                end += len(line)
                rows += 1
                try:
                    item = json.loads(line)
                    if "event" in item:
                        event_lines += 1
                        events.append(item["event"])
                    else:
                        record = _record_in(item["record"])
                        records.pop(record["session_id"], None)
                        records[record["session_id"]] = record
                except (ValueError, KeyError, TypeError):
                    self.unreadable += 1
                    log.error("registry: skipping an unreadable line of the spill file %s at byte %d", self.path, end - len(line))
        return Chunk(events, list(records.values()), end, event_lines)

    def consumed(self, chunk: Chunk) -> None:
        """The database has ``chunk``: move past it; remove the file once all of it is written."""
        self.offset = chunk.end
        self.events = max(self.events - chunk.event_lines, 0)
        if self.offset >= self.size:
            self.path.unlink(missing_ok=True)
            self.offset = self.size = self.events = 0

    def _load(self) -> None:
        """Count the rows a previous server left; cut a last line a crash left unfinished."""
        data = self.path.read_bytes()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            log.warning("registry: cutting an unfinished last line (%d bytes) off the spill file %s", len(data) - complete, self.path)
            os.truncate(self.path, complete)
        self.size = complete
        self.events = sum(1 for line in data[:complete].split(b"\n") if line.startswith(b'{"event":'))
        if self.size == 0:
            self.path.unlink(missing_ok=True)


def _encode(item: dict[str, Any]) -> bytes:
    return json.dumps(item, default=str, separators=(",", ":")).encode() + b"\n"


def _record_out(row: Row) -> Row:
    return {k: v.isoformat() if k in _RECORD_TIMES and isinstance(v, datetime) else v for k, v in row.items()}


def _record_in(row: Row) -> Row:
    return {k: datetime.fromisoformat(v) if k in _RECORD_TIMES and isinstance(v, str) else v for k, v in row.items()}
