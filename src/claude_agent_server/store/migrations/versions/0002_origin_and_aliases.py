"""origin and aliases: which API made a session; adapters' names for sessions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("origin", sa.String(32), nullable=False, server_default="rest"))
    op.create_table(
        "session_aliases",
        sa.Column("namespace", sa.String(32), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "alias", name=op.f("pk_session_aliases")),
    )
    op.create_index(op.f("ix_session_aliases_session_id"), "session_aliases", ["session_id"])


def downgrade() -> None:
    op.drop_table("session_aliases")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("origin")
