"""row-level security without a self-service bypass

The first policies also let any row through when `app.bypass_rls` was 'on', and the app role could
set that variable itself (`SET app.bypass_rls = 'on'`) and read every tenant. Now a row is visible
only to the tenant its transaction names; cross-tenant jobs connect as a role with BYPASSRLS
(SYSTEM_DATABASE_URL), an attribute only a superuser can grant.

Revision ID: 0003_rls_no_self_bypass
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0003_rls_no_self_bypass"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, the column naming its tenant): a snapshot of the tables 0001 put under RLS.
SCOPED = (
    ("tenants", "id"),
    ("users", "tenant_id"),
    ("email_accounts", "tenant_id"),
    ("folders", "tenant_id"),
    ("messages", "tenant_id"),
    ("attachments", "tenant_id"),
    ("task_records", "tenant_id"),
    ("outbox_messages", "tenant_id"),
    ("user_spam_models", "tenant_id"),
)
TENANT_ONLY = "{column} = current_setting('app.tenant_id', true)"
WITH_GUC_BYPASS = "current_setting('app.bypass_rls', true) = 'on' OR " + TENANT_ONLY


def _set_policies(condition: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in SCOPED:
        check = condition.format(column=column)
        op.execute(f"ALTER POLICY tenant_isolation ON {table} USING ({check}) WITH CHECK ({check})")


def upgrade() -> None:
    _set_policies(TENANT_ONLY)


def downgrade() -> None:
    _set_policies(WITH_GUC_BYPASS)
