"""tenancy: users, their API keys (hashes only), the audit log, and the owner of each session.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

New tables and one nullable column: existing sessions keep every value (their owner is NULL:
visible to admins and viewers only). A downgrade loses users, keys, the audit log and owners.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
# INTEGER on SQLite makes a single-column primary key the rowid (so it autoincrements); BIGSERIAL on PostgreSQL.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("owner", sa.String(128), nullable=True))
        batch.create_index(op.f("ix_sessions_owner"), ["owner"])
    op.create_table(
        "users",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("daily_usd", sa.Double(), nullable=True),
        sa.Column("monthly_usd", sa.Double(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_users")),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], name=op.f("fk_api_keys_user_name_users")),
    )
    op.create_index(op.f("ix_api_keys_user_name"), "api_keys", ["user_name"])
    op.create_table(
        "audit",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("user_name", sa.String(128), nullable=True),
        sa.Column("key_id", sa.String(256), nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index(op.f("ix_audit_user_name"), "audit", ["user_name"])
    op.create_index(op.f("ix_audit_action"), "audit", ["action"])
    op.create_index(op.f("ix_audit_session_id"), "audit", ["session_id"])


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("api_keys")
    op.drop_table("users")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index(op.f("ix_sessions_owner"))
        batch.drop_column("owner")
