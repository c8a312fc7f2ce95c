"""changes: each user's change log (the changes feed; webhooks and push build on it)

Appended in the same transaction as the change it tells about; `seq` orders the feed and is its
cursor. Tenant-owned and under the same row-level-security policy as every other tenant table.
Pruned by cleanup_stale_results after CHANGE_RETENTION_DAYS.

Revision ID: 0014_changes
Revises: 0013_pop3_uidl_partial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_changes"
down_revision = "0013_pop3_uidl_partial"
branch_labels = None
depends_on = None

TENANT_ONLY = "tenant_id = current_setting('app.tenant_id', true)"


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_changes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_changes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    op.create_index("ix_changes_owner_seq", "changes", ["tenant_id", "user_id", "seq"])
    op.create_index(op.f("ix_changes_tenant_id"), "changes", ["tenant_id"])
    op.create_index(op.f("ix_changes_user_id"), "changes", ["user_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE changes ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE changes FORCE ROW LEVEL SECURITY")
        policy = f"USING ({TENANT_ONLY}) WITH CHECK ({TENANT_ONLY})"
        op.execute(f"CREATE POLICY tenant_isolation ON changes {policy}")


def downgrade() -> None:
    op.drop_table("changes")
