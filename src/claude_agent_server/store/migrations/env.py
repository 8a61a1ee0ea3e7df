"""Alembic environment: migrates the connection that :mod:`..migrate` passes in
``config.attributes["connection"]`` (never an engine of its own, never an ini file)."""

from alembic import context

from claude_agent_server.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by rebuilding them
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
