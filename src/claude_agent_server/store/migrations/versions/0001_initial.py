"""initial: the sessions table and the event log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Column types are spelled out here, not imported from the models, so this
revision stays what it was when it shipped.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_activity", TIMESTAMP, nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Double(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("agentcore_session_id", sa.String(256), nullable=True),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_agentcore_session_id"), "sessions", ["agentcore_session_id"], unique=True)
    op.create_index(op.f("ix_sessions_last_activity"), "sessions", ["last_activity"])
    op.create_index(op.f("ix_sessions_state"), "sessions", ["state"])

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("server", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_session_id_id"), "events", ["session_id", "id"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("sessions")
