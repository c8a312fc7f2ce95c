"""Changes feed: GET /api/changes/cursor and GET /api/changes?since=&limit=&wait=."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.core.errors import BadRequest
from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import limit_arg
from email_service.events import feed
from email_service.events.schemas import ChangesPage, ChangesQuery, CursorView

bp = Blueprint("changes", __name__, url_prefix="/api/changes")


def _wait_arg() -> int:
    raw = request.args.get("wait", "0")
    if not raw.isascii() or not raw.isdigit() or not 0 <= int(raw) <= feed.MAX_WAIT_SECONDS:
        raise BadRequest(f"wait must be an integer between 0 and {feed.MAX_WAIT_SECONDS}", {"field": "wait"})
    return int(raw)


@bp.get("/cursor")
@documented(200, CursorView, tag="changes")
def cursor() -> ResponseReturnValue:
    """The caller's latest change, to follow only what comes after it."""
    return jsonify({"cursor": feed.latest_cursor(current_caller())})


@bp.get("")
@documented(200, ChangesPage, 400, tag="changes", query=ChangesQuery)
def changes() -> ResponseReturnValue:
    """Changes after `since`, oldest first; `wait` long-polls (holding no database connection)."""
    since = feed.parse_cursor(request.args.get("since"))
    limit = limit_arg(100, feed.MAX_LIMIT)
    return jsonify(feed.changes_since(current_caller(), since, limit, _wait_arg()))
