"""oauth2_accounts: accounts may log in with OAuth2 tokens (XOAUTH2 / OAUTHBEARER)

email_accounts gains auth_type ("password" for every existing row), the provider, the encrypted access
and refresh tokens, their expiry, and for custom providers the token URL, client id, encrypted client
secret and scope. Plain ADD COLUMN on both backends: no SQLite rebuild of email_accounts (the parent of
every tenant table), and messages is not touched at all. No new table, so no new RLS policy.

Revision ID: 0016_oauth2_accounts
Revises: 0015_gmail_labels
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_oauth2_accounts"
down_revision = "0015_gmail_labels"
branch_labels = None
depends_on = None

NULLABLE_TEXT = (
    "oauth_access_ciphertext",
    "oauth_refresh_ciphertext",
    "oauth_token_url",
    "oauth_client_id",
    "oauth_client_secret_ciphertext",
    "oauth_scope",
)


def upgrade() -> None:
    op.add_column(
        "email_accounts",
        sa.Column("auth_type", sa.String(length=16), nullable=False, server_default="password"),
    )
    op.add_column("email_accounts", sa.Column("oauth_provider", sa.String(length=16), nullable=True))
    for name in NULLABLE_TEXT:
        op.add_column("email_accounts", sa.Column(name, sa.Text(), nullable=True))
    op.add_column("email_accounts", sa.Column("oauth_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), as 0011: no batch rebuild that could lose what hangs on the table.
    for name in ("oauth_expires_at", *reversed(NULLABLE_TEXT), "oauth_provider", "auth_type"):
        op.drop_column("email_accounts", name)
