"""transcripts: the SDK's SessionStore (one row per transcript key, one per transcript line).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

Only new tables: no existing row changes, so a downgrade loses nothing but the transcripts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# INTEGER on SQLite makes a single-column primary key the rowid (so it autoincrements); BIGSERIAL on PostgreSQL.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "transcripts",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("project_key", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=False),
        sa.Column("subpath", sa.Text(), nullable=False),
        sa.Column("mtime", sa.BigInteger(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcripts")),
        sa.UniqueConstraint("project_key", "session_id", "subpath", name=op.f("uq_transcripts_key")),
    )
    op.create_table(
        "transcript_entries",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("transcript_id", ROW_ID, nullable=False),
        sa.Column("uuid", sa.Text(), nullable=True),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_entries")),
        sa.ForeignKeyConstraint(
            ["transcript_id"], ["transcripts.id"], name=op.f("fk_transcript_entries_transcript_id_transcripts")
        ),
        sa.UniqueConstraint("transcript_id", "uuid", name=op.f("uq_transcript_entries_transcript_id_uuid")),
    )
    op.create_index(op.f("ix_transcript_entries_transcript_id_id"), "transcript_entries", ["transcript_id", "id"])


def downgrade() -> None:
    op.drop_table("transcript_entries")
    op.drop_table("transcripts")
