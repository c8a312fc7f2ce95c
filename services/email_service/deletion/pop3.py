"""Deleting messages of POP3 accounts: permanent → DELE by UIDL (committed by QUIT), then purge the
row; soft → local only (the row is hidden, the message stays on the server; restore shows it again)."""

from __future__ import annotations

from collections import defaultdict

from email_service.accounts.mail_settings import pop3_settings
from email_service.accounts.service import load_account_for_task
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.errors import TaskUnauthorized
from email_service.deletion import store
from email_service.deletion.batches import Outcome
from email_service.deletion.store import Owner, Target
from email_service.mail.pop3.client import Pop3Session
from email_service.mail.pop3.types import Pop3AuthError, Pop3CommandError, Pop3ConnectionError


def delete_on_server(
    owner: Owner, targets: list[Target], uidls: dict[str, str | None], outcome: Outcome
) -> None:
    """DELE each target's UIDL, one session per account; rows are purged only after QUIT succeeded
    (a message the server no longer lists counts as deleted)."""
    by_account: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        by_account[target.account_id].append(target)
    for account_id, group in by_account.items():
        ids = [t.id for t in group]
        try:
            with session_scope(owner.tenant_id) as session:
                account = load_account_for_task(session, account_id, owner.tenant_id, owner.user_id)
                settings = pop3_settings(account, get_secret_box())
            with Pop3Session(settings) as pop:
                for target in group:
                    uidl = uidls.get(target.id)
                    if uidl is not None:
                        pop.dele(uidl)
            # QUIT has answered +OK: the server has removed them.
            with session_scope(owner.tenant_id) as session:
                store.purge(session, owner, ids)
            outcome.succeed(ids)
        except TaskUnauthorized as exc:
            outcome.fail(ids, str(exc))
        except Pop3AuthError as exc:
            outcome.fail(ids, f"POP3 login refused: {exc}")
        except Pop3ConnectionError as exc:
            outcome.fail(ids, f"POP3 connection failed: {exc}", retryable=True)
        except Pop3CommandError as exc:
            outcome.fail(ids, f"POP3 server refused: {exc}")
