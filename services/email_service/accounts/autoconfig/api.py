"""GET /api/autoconfig: an address's server settings (no tenant data; behind auth and the rate limits)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.accounts import use_cases
from email_service.accounts.schemas import AutoconfigQuery, AutoconfigView
from email_service.core.http.apidoc import documented
from email_service.core.http.rate_limits import named_limit

bp = Blueprint("autoconfig", __name__, url_prefix="/api/autoconfig")


@bp.get("")
@documented(200, AutoconfigView, 404, 422, tag="accounts", query=AutoconfigQuery)
@named_limit("autoconfig")  # each request may send six DNS queries and hold a thread for 6 s
def show() -> ResponseReturnValue:
    """Server settings for an address: the shipped provider table, then RFC 6186 SRV records, then an
    MX match. 404 when none knows the domain, 422 for a bad address, 503 when DNS did not answer."""
    return jsonify(use_cases.autoconfig_for(request.args.get("email")))
