"""The server's data directory on disk: private modes, and one server at a time.

The data dir holds the SQLite registry (every prompt, tool input and reply), the CLI
launcher and the gateway's scratch directories, so only the server's user may read
it: directories are made 0700 and files 0600, and tightened again at every start
when they exist with looser modes (a data dir left 0755 by an older version).

A SQLite registry takes one server: :class:`DataDirLock` is an exclusive ``flock``
on ``<data dir>/server.lock`` held for the server's whole life (the kernel drops it
when the process dies, ``kill -9`` included), with the holder's pid written inside
so a second server can say which one is in the way.
"""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

__all__ = ["DataDirBusy", "DataDirLock", "LOCK_NAME", "private_directory", "private_file", "readable_by_others", "tighten"]

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
LOCK_NAME = "server.lock"


def tighten(path: Path, mode: int = PRIVATE_FILE) -> None:
    """Take away the group's and others' access to ``path`` if it exists (chmod to ``mode``)."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & 0o077:
        path.chmod(mode)


def private_directory(path: Path) -> Path:
    """Create ``path`` with mode 0700 (missing parents get the usual modes), or tighten an
    existing one to 0700. Returns ``path``.

    Raises:
        OSError: It cannot be created or its mode changed.
    """
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    tighten(path, PRIVATE_DIRECTORY)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists; tighten an existing one to 0600.
    Returns ``path``.

    Raises:
        OSError: It cannot be created or its mode changed.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE))
    except FileExistsError:
        tighten(path)
    return path


class DataDirBusy(Exception):
    """Another live process holds the data dir's lock.

    Attributes:
        data_dir: The directory.
        pid: The holder's pid as it wrote it in the lock file (None if unreadable).
    """

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        holder = f"another server (pid {pid})" if pid is not None else "another server"
        super().__init__(f"{holder} is using the data dir {data_dir}")
        self.data_dir = data_dir
        self.pid = pid


class DataDirLock:
    """An exclusive ``flock`` on ``<data_dir>/server.lock`` holding this process's pid.

    The descriptor is close-on-exec, so no Claude Code process inherits the lock and
    outlives the server with it.
    """

    def __init__(self, data_dir: Path, fd: int) -> None:
        self.data_dir = data_dir
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> DataDirLock:
        """Make the data dir private, take its lock (without waiting) and write our pid.

        Raises:
            DataDirBusy: Another process holds the lock.
            OSError: The directory or the lock file cannot be created.
        """
        private_directory(data_dir)
        fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise DataDirBusy(data_dir, int(holder) if holder.isdigit() else None) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        tighten(data_dir / LOCK_NAME)
        return cls(data_dir, fd)

    def release(self) -> None:
        """Drop the lock (closing the descriptor); idempotent."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def readable_by_others(path: Path) -> bool:
    """Whether ``path`` is a regular file its group or other users may read (a key file
    that should be 0600); False for pipes, missing files and private files."""
    try:
        status = path.stat()
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and bool(status.st_mode & 0o044)
