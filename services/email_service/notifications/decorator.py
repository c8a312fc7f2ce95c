"""@email_notification: opt-in per task; mails its user on success or final failure, never on a retry."""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from celery import Task, current_task
from celery.exceptions import Ignore, Reject, Retry
from sqlalchemy.exc import SQLAlchemyError

from email_service.notifications.catalog import EmailTemplate
from email_service.notifications.dispatch import publish_notification
from email_service.notifications.request import NotificationRequest

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
ResultFilter = Callable[[Any], bool]
NOT_AN_OUTCOME = (Retry, Ignore, Reject)  # the task will run again, or is deliberately dropped


def email_notification(
    template: EmailTemplate, subject_template: str | None = None, only_if: ResultFilter | None = None
) -> Callable[[F], F]:
    """Place below @shared_task. `only_if(result)` can drop success mails with nothing worth saying."""
    spec = template.spec

    def wrap(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                result = fn(*args, **kwargs)
            except NOT_AN_OUTCOME:
                raise
            except Exception as exc:
                if spec.on_failure:
                    _notify(template, subject_template, _call(signature, args, kwargs), started, exc=exc)
                raise
            if spec.on_success and (only_if is None or _accepts(only_if, result)):
                _notify(template, subject_template, _call(signature, args, kwargs), started, result=result)
            return result

        return run  # type: ignore[return-value]

    return wrap


def _call(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(signature.bind_partial(*args, **kwargs).arguments)
    except TypeError:
        return dict(kwargs)


def _accepts(only_if: ResultFilter, result: Any) -> bool:
    try:
        return bool(only_if(result))
    except Exception as exc:
        log.warning("notification filter failed: %s", exc)
        return False


def _notify(
    template: EmailTemplate,
    subject_template: str | None,
    call: Mapping[str, Any],
    started: float,
    result: Any = None,
    exc: BaseException | None = None,
) -> None:
    """Publish send_notification with ids only; any error here is logged and swallowed."""
    try:
        tenant_id, user_id = call.get("tenant_id"), call.get("user_id")
        if not tenant_id or not user_id:
            return  # TenantTask already refused the call; there is nobody to tell
        if template.spec.opt_in and not _opted_in(str(tenant_id), str(user_id), template):
            return
        task = call.get("self")
        task = task if isinstance(task, Task) else current_task
        request = NotificationRequest.for_outcome(
            template.value,
            str(tenant_id),
            str(user_id),
            task_name=str(getattr(task, "name", "") or ""),
            task_id=getattr(getattr(task, "request", None), "id", None),
            status="failed" if exc is not None else "success",
            execution_time=round(time.monotonic() - started, 3),
            error_message=str(exc) if exc is not None else None,
            result=result,
            account_id=call.get("email_client_id"),
            subject_template=subject_template,
        )
        publish_notification(request)
    except SQLAlchemyError as error:  # the opt-in lookup: the database is unwell
        log.warning("notification %s not queued: %s", template.value, error)
    except Exception:  # a bug: loud in the log with its traceback, but the reported task stands
        log.exception("notification %s not queued: unexpected error", template.value)


def _opted_in(tenant_id: str, user_id: str, template: EmailTemplate) -> bool:
    from email_service.notifications.delivery import user_opted_in

    return user_opted_in(tenant_id, user_id, template)
