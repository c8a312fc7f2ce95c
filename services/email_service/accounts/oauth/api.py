"""OAuth2 sign-in for google and microsoft: GET /api/oauth/<provider>/start, then the frontend posts the
code and state that came back to OAUTH_REDIRECT_URI to /api/oauth/<provider>/callback."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.accounts.oauth import authorize
from email_service.accounts.oauth.schemas import OAuthCallbackRequest, OAuthStartQuery, OAuthStartView
from email_service.accounts.schemas import AccountView
from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body

bp = Blueprint("oauth", __name__, url_prefix="/api/oauth")


@bp.get("/<provider>/start")
@documented(200, OAuthStartView, 404, 409, 422, 503, tag="accounts", query=OAuthStartQuery)
def start(provider: str) -> ResponseReturnValue:
    """The provider's authorize URL (state and PKCE S256); 409 when the service has no client for it."""
    query = OAuthStartQuery.model_validate(request.args.to_dict())
    return jsonify(authorize.start_authorization(current_caller(), provider, query.model_dump()))


@bp.post("/<provider>/callback")
@documented(200, AccountView, 404, 409, 422, 503, tag="accounts", json=OAuthCallbackRequest)
def callback(provider: str) -> ResponseReturnValue:
    """Exchange the code: the new account, or the re-authorized one (state's account_id); tokens are never
    shown. 404 for an unknown, used, expired or another caller's state; 422 when the provider refuses it."""
    body = parse_body(OAuthCallbackRequest)
    view, _created = authorize.finish_authorization(current_caller(), provider, body.code, body.state)
    return jsonify(view)
