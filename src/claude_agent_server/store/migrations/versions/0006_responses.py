"""responses: the OpenAI Responses API's stored responses (resp_ id → session and turn).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

Only a new table: a downgrade loses nothing but the stored responses.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("message_uuid", sa.String(64), nullable=True),
        sa.Column("previous_response_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
    )
    op.create_index(op.f("ix_responses_session_id"), "responses", ["session_id"])


def downgrade() -> None:
    op.drop_table("responses")
