"""All models, imported here so metadata is complete for Alembic and create_all."""

from email_service.models.attachment import Attachment
from email_service.models.base import Base, TenantOwned, UtcDateTime, new_id, utcnow
from email_service.models.email_account import EmailAccount
from email_service.models.folder import Folder
from email_service.models.message import Message
from email_service.models.outbox_message import OutboxMessage
from email_service.models.task_record import TaskRecord
from email_service.models.tenant import Tenant
from email_service.models.user import User
from email_service.models.user_spam_model import UserSpamModel

TENANT_TABLES = (
    "email_accounts",
    "folders",
    "messages",
    "attachments",
    "task_records",
    "outbox_messages",
    "user_spam_models",
)

__all__ = [
    "TENANT_TABLES",
    "Attachment",
    "Base",
    "EmailAccount",
    "Folder",
    "Message",
    "OutboxMessage",
    "TaskRecord",
    "Tenant",
    "TenantOwned",
    "User",
    "UserSpamModel",
    "UtcDateTime",
    "new_id",
    "utcnow",
]
