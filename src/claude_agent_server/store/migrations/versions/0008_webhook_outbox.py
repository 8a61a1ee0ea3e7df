"""webhook_outbox: webhook deliveries waiting in the registry, delivered by any live node.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Only a new table: a downgrade loses the deliveries still waiting.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# INTEGER on SQLite makes a single-column primary key the rowid (so it autoincrements); BIGSERIAL on PostgreSQL.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_outbox",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_outbox")),
        sa.UniqueConstraint("message_id", "url", name="uq_webhook_outbox_delivery"),
    )


def downgrade() -> None:
    op.drop_table("webhook_outbox")
