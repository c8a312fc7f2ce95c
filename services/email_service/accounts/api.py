"""Email accounts ("email clients"): CRUD, connection test, folders."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from email_service.accounts import service as service
from email_service.accounts.connection_test import test_account_connection
from email_service.accounts.hosts import check_account_hosts
from email_service.core.config import get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.http.body import parse_body
from email_service.core.http.schemas import AccountCreate, AccountUpdate
from email_service.messages.folders import folder_view, list_folders

bp = Blueprint("accounts", __name__, url_prefix="/api/accounts")


@bp.post("")
def create() -> ResponseReturnValue:
    body = parse_body(AccountCreate)
    check_account_hosts(body.model_dump(), get_settings().allowed_private_hosts)
    with session_scope(g.tenant_id) as session:
        account = service.create_account(session, get_secret_box(), g.tenant_id, g.user_id, body.model_dump())
        view = service.account_view(account)
    return jsonify(view), 201


@bp.get("")
def index() -> ResponseReturnValue:
    with session_scope(g.tenant_id) as session:
        items = [service.account_view(a) for a in service.list_accounts(session, g.tenant_id, g.user_id)]
    return jsonify({"items": items})


@bp.get("/<account_id>")
def show(account_id: str) -> ResponseReturnValue:
    with session_scope(g.tenant_id) as session:
        view = service.account_view(service.get_account(session, account_id, g.tenant_id, g.user_id))
    return jsonify(view)


@bp.patch("/<account_id>")
def update(account_id: str) -> ResponseReturnValue:
    changes = parse_body(AccountUpdate).model_dump(exclude_unset=True)
    check_account_hosts(changes, get_settings().allowed_private_hosts)
    with session_scope(g.tenant_id) as session:
        account = service.update_account(
            session, get_secret_box(), account_id, g.tenant_id, g.user_id, changes
        )
        view = service.account_view(account)
    return jsonify(view)


@bp.delete("/<account_id>")
def delete(account_id: str) -> ResponseReturnValue:
    with session_scope(g.tenant_id) as session:
        service.delete_account(session, account_id, g.tenant_id, g.user_id)
    return "", 204


@bp.post("/<account_id>/test")
def test_connection(account_id: str) -> ResponseReturnValue:
    with session_scope(g.tenant_id) as session:
        account = service.get_account(session, account_id, g.tenant_id, g.user_id)
        session.expunge(account)
    return jsonify(test_account_connection(account, get_secret_box()))


@bp.get("/<account_id>/folders")
def folders(account_id: str) -> ResponseReturnValue:
    with session_scope(g.tenant_id) as session:
        service.get_account(session, account_id, g.tenant_id, g.user_id)
        items = [folder_view(f) for f in list_folders(session, account_id, g.tenant_id, g.user_id)]
    return jsonify({"items": items})
