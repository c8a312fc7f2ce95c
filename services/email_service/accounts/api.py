"""Email accounts ("email clients"): CRUD, connection test, folders."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.accounts import use_cases
from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body
from email_service.core.http.schemas import AccountCreate, AccountUpdate

bp = Blueprint("accounts", __name__, url_prefix="/api/accounts")


@bp.post("")
def create() -> ResponseReturnValue:
    return jsonify(use_cases.add_account(current_caller(), parse_body(AccountCreate).model_dump())), 201


@bp.get("")
def index() -> ResponseReturnValue:
    return jsonify({"items": use_cases.account_list(current_caller())})


@bp.get("/<account_id>")
def show(account_id: str) -> ResponseReturnValue:
    return jsonify(use_cases.show_account(current_caller(), account_id))


@bp.patch("/<account_id>")
def update(account_id: str) -> ResponseReturnValue:
    changes = parse_body(AccountUpdate).model_dump(exclude_unset=True)
    return jsonify(use_cases.change_account(current_caller(), account_id, changes))


@bp.delete("/<account_id>")
def delete(account_id: str) -> ResponseReturnValue:
    use_cases.remove_account(current_caller(), account_id)
    return "", 204


@bp.post("/<account_id>/test")
def test_connection(account_id: str) -> ResponseReturnValue:
    return jsonify(use_cases.check_connection(current_caller(), account_id))


@bp.get("/<account_id>/folders")
def folders(account_id: str) -> ResponseReturnValue:
    return jsonify({"items": use_cases.account_folders(current_caller(), account_id)})
