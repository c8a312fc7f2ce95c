"""One JSON error shape for every failure: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from kombu.exceptions import OperationalError as BrokerError
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError
from sqlalchemy.exc import OperationalError as DatabaseError
from werkzeug.exceptions import HTTPException

from email_service.core.errors import DomainError

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def _validation_details(exc: ValidationError) -> dict[str, Any]:
    fields = [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    return {"fields": fields}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        return error_response(exc.http_status, exc.code, exc.message, exc.details)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return error_response(422, "validation_error", "request is invalid", _validation_details(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(exc.code or 500, code, exc.description or code)
        if exc.code == 405 and exc.response is None:
            valid = getattr(exc, "valid_methods", None)
            if valid:
                response.headers["Allow"] = ", ".join(valid)
        return response

    @app.errorhandler(BrokerError)
    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def _broker_down(exc: Exception) -> Response:
        log.warning("task broker or result backend unreachable: %s", type(exc).__name__)
        return error_response(503, "service_unavailable", "task queue is unavailable, try again shortly")

    @app.errorhandler(DataError)
    def _unstorable(exc: Exception) -> Response:
        """Input the database cannot hold (NUL in text, a lone surrogate) is the caller's error."""
        log.info("request value refused by the database: %s", type(exc.__cause__ or exc).__name__)
        return error_response(400, "bad_request", "a value in the request cannot be stored or looked up")

    @app.errorhandler(DatabaseError)
    def _db_down(exc: Exception) -> Response:
        log.warning("database unavailable: %s", type(exc).__name__)
        return error_response(503, "service_unavailable", "database is unavailable, try again shortly")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
