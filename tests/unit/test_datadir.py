"""The data dir on disk: private modes (fresh and tightened), the one-server lock, the registry's files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_agent_server.datadir import DataDirBusy, DataDirLock, private_directory, private_file, readable_by_others
from claude_agent_server.sessions.launcher import write_launcher
from claude_agent_server.store import SqlRegistry, default_database_url
from unit.conftest import MakeManager


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most users have (022), so a file created without care would be 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_private_directories_and_files_fresh_and_loose(tmp_path: Path) -> None:
    fresh = private_directory(tmp_path / "a" / "b")
    assert mode(fresh) == 0o700 and mode(tmp_path / "a") == 0o755  # parents keep the usual modes
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    loose.chmod(0o755)
    assert mode(private_directory(loose)) == 0o700
    assert mode(private_file(tmp_path / "new.txt")) == 0o600
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me")
    existing.chmod(0o644)
    assert mode(private_file(existing)) == 0o600 and existing.read_text() == "keep me"


async def test_the_registry_files_are_private_fresh_and_when_they_were_loose(tmp_path: Path) -> None:
    data = tmp_path / "data"
    registry = await SqlRegistry.open(default_database_url(data))
    await registry.close()
    files = [data / name for name in ("registry.db", "registry.db-wal", "registry.db-shm")]
    registry = await SqlRegistry.open(default_database_url(data))  # the -wal and -shm exist while it is open
    try:
        assert mode(data) == 0o700
        assert {f.name: mode(f) for f in files if f.exists()} == {f.name: 0o600 for f in files if f.exists()}
        assert (data / "registry.db-wal").exists()
    finally:
        await registry.close()

    data.chmod(0o755)
    for path in files:
        path.touch()
        path.chmod(0o644)
    registry = await SqlRegistry.open(default_database_url(data))
    try:
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        await registry.close()


def test_the_launcher_directory_is_private(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir(mode=0o755)
    launcher = write_launcher(tmp_path / "bin", Path("/bin/true"))
    if launcher is None:
        pytest.skip("setpriv is not installed")
    assert mode(tmp_path / "bin") == 0o700 and mode(launcher) == 0o700


async def test_scratch_directories_are_private(make_manager: MakeManager, tmp_path: Path) -> None:
    root = tmp_path / "scratch"
    root.mkdir(mode=0o755)
    manager = await make_manager(scratch_root=root)
    directory = manager.scratch_directory("0b6f0a36-2f6e-4d44-8a3f-9fb5f3b4b0a1")
    assert mode(root) == 0o700 and mode(directory) == 0o700
    directory.chmod(0o755)
    assert mode(manager.scratch_directory("0b6f0a36-2f6e-4d44-8a3f-9fb5f3b4b0a1")) == 0o700


def test_one_lock_holder_per_data_dir(tmp_path: Path) -> None:
    with DataDirLock.acquire(tmp_path / "data") as lock:
        assert (tmp_path / "data" / "server.lock").read_text() == f"{os.getpid()}\n"
        assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "server.lock") == 0o600
        with pytest.raises(DataDirBusy) as busy:  # flock: a second open file description conflicts, even in one process
            DataDirLock.acquire(tmp_path / "data")
        assert busy.value.pid == os.getpid() and f"another server (pid {os.getpid()})" in str(busy.value)
        lock.release()
        lock.release()  # idempotent
        DataDirLock.acquire(tmp_path / "data").release()  # free again


def test_readable_by_others(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("k")
    key.chmod(0o644)
    assert readable_by_others(key)
    key.chmod(0o600)
    assert not readable_by_others(key) and not readable_by_others(tmp_path / "missing")
