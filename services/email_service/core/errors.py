"""Domain errors raised by services; api/errors.py maps them to HTTP, tasks to results."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    """Missing, or owned by someone else: the two are indistinguishable on purpose."""

    code = "not_found"
    http_status = 404


class ValidationFailed(DomainError):
    code = "validation_error"
    http_status = 422


class BadRequest(DomainError):
    code = "bad_request"
    http_status = 400


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class Unauthorized(DomainError):
    code = "unauthorized"
    http_status = 401


class QuotaExceeded(DomainError):
    """Storing this would take the caller (or their tenant) over a configured quota."""

    code = "quota_exceeded"
    http_status = 413


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    http_status = 503


class TransientError(Exception):
    """Worth retrying later: connection refused, timeouts, 4xx replies, a lock held elsewhere."""


class PermanentError(Exception):
    """Retrying cannot help: bad credentials, 5xx replies, an account that is not the caller's."""


class TaskUnauthorized(PermanentError):
    """The task's tenant/user do not own the entity it names."""
