"""Schema migrations (Alembic, in ``migrations/``), run through the async engine.

Revisions are named and append-only: ``versions/0001_initial.py`` and so on;
never edit one that has shipped, add the next.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import writing

SCRIPT_LOCATION = "claude_agent_server.store:migrations"


def config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, built in code (there is no ``alembic.ini``).

    Args:
        connection: The connection ``env.py`` migrates, if any.
    """
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database up to ``revision``.

    Raises:
        alembic.util.CommandError: ``revision`` is unknown.
        sqlalchemy.exc.DBAPIError: The database refused a step.
    """
    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``"base"``: no tables).

    Raises:
        alembic.util.CommandError: ``revision`` is unknown.
        sqlalchemy.exc.DBAPIError: The database refused a step.
    """
    await _run(engine, command.downgrade, revision)


async def _run(engine: AsyncEngine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command on one connection; each revision commits on its own."""
    async with writing(engine).connect() as conn:
        await conn.run_sync(lambda sync: step(config(sync), revision))
        await conn.commit()
