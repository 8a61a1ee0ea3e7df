"""parked_permissions: permission requests that wait for a person across restarts and nodes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Only a new table: a downgrade loses the requests still waiting (their sessions' turns
then end as they did before: the agent was told the request failed).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parked_permissions",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("tool_use_id", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_parked_permissions")),
    )
    op.create_index(op.f("ix_parked_permissions_session_id"), "parked_permissions", ["session_id"])


def downgrade() -> None:
    op.drop_table("parked_permissions")
