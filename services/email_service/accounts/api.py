"""Email accounts ("email clients"): CRUD, connection test, folders."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.accounts import use_cases
from email_service.accounts.schemas import (
    AccountCreate,
    AccountList,
    AccountUpdate,
    AccountView,
    ConnectionTestResult,
    FolderList,
)
from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body

bp = Blueprint("accounts", __name__, url_prefix="/api/accounts")


@bp.post("")
@documented(201, AccountView, 422, tag="accounts", json=AccountCreate)
def create() -> ResponseReturnValue:
    """Add an IMAP/SMTP account; the password is stored encrypted and never returned. Without
    imap_host and smtp_host the servers come from autoconfig (422 naming them when none is found,
    503 when DNS did not answer)."""
    body = parse_body(AccountCreate)
    return jsonify(use_cases.add_account(current_caller(), body.model_dump(), body.model_fields_set)), 201


@bp.get("")
@documented(200, AccountList, tag="accounts")
def index() -> ResponseReturnValue:
    """The caller's accounts."""
    return jsonify({"items": use_cases.account_list(current_caller())})


@bp.get("/<account_id>")
@documented(200, AccountView, 404, tag="accounts")
def show(account_id: str) -> ResponseReturnValue:
    """One account."""
    return jsonify(use_cases.show_account(current_caller(), account_id))


@bp.patch("/<account_id>")
@documented(200, AccountView, 404, 422, tag="accounts", json=AccountUpdate)
def update(account_id: str) -> ResponseReturnValue:
    """Change some fields of an account (null clears only pinned_cert_pem)."""
    changes = parse_body(AccountUpdate).model_dump(exclude_unset=True)
    return jsonify(use_cases.change_account(current_caller(), account_id, changes))


@bp.delete("/<account_id>")
@documented(204, None, 404, tag="accounts")
def delete(account_id: str) -> ResponseReturnValue:
    """Delete an account and its mirrored mail."""
    use_cases.remove_account(current_caller(), account_id)
    return "", 204


@bp.post("/<account_id>/test")
@documented(200, ConnectionTestResult, 404, tag="accounts")
def test_connection(account_id: str) -> ResponseReturnValue:
    """Log in to IMAP and SMTP and say which failed and why."""
    return jsonify(use_cases.check_connection(current_caller(), account_id))


@bp.get("/<account_id>/folders")
@documented(200, FolderList, 404, tag="accounts")
def folders(account_id: str) -> ResponseReturnValue:
    """The account's folders with role, total and unread counts."""
    return jsonify({"items": use_cases.account_folders(current_caller(), account_id)})
