"""nodes and session leases: the cluster's members and which node runs each live session.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

Only new tables: a downgrade loses nothing but who runs what (every node re-registers).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("node_id", sa.String(255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=False),
        sa.Column("live_sessions", sa.Integer(), nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_nodes")),
    )
    op.create_table(
        "session_leases",
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("node_id", sa.String(255), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_leases")),
    )
    op.create_index(op.f("ix_session_leases_node_id"), "session_leases", ["node_id"])
    op.create_index(op.f("ix_session_leases_expires_at"), "session_leases", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_session_leases_expires_at"), table_name="session_leases")
    op.drop_index(op.f("ix_session_leases_node_id"), table_name="session_leases")
    op.drop_table("session_leases")
    op.drop_table("nodes")
