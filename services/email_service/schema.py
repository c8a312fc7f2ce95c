"""Every table of every domain in one metadata: for Alembic, and loaded by make_engine before any flush."""

from email_service.accounts.model import EmailAccount
from email_service.core.model_base import Base, TenantOwned, UtcDateTime, new_id, utcnow
from email_service.core.tasking.model import TaskRecord
from email_service.core.tenancy.tenant_model import Tenant
from email_service.core.tenancy.user_model import User
from email_service.events.model import Change
from email_service.events.webhooks.model import Webhook, WebhookDelivery
from email_service.messages.actions.model import MessageAction
from email_service.messages.attachment_model import Attachment
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.messages.threads.model import MessageReference
from email_service.sending.drafts.model import Draft
from email_service.sending.model import OutboxMessage
from email_service.spam.user_model_row import UserSpamModel

__all__ = [
    "Attachment",
    "Base",
    "Change",
    "Draft",
    "EmailAccount",
    "Folder",
    "Message",
    "MessageAction",
    "MessageReference",
    "OutboxMessage",
    "TaskRecord",
    "Tenant",
    "TenantOwned",
    "User",
    "UserSpamModel",
    "UtcDateTime",
    "Webhook",
    "WebhookDelivery",
    "new_id",
    "utcnow",
]
