"""email_service: IMAP mailboxes mirrored into SQL, acted on through a Flask API and Celery workers."""

from __future__ import annotations

from typing import Any

from flask import Flask

from email_service.core.config import get_settings, load_settings, reset_settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the API app; test_config may carry environment overrides for settings."""
    from email_service.core.http.auth import init_auth
    from email_service.core.http.errors import register_error_handlers
    from email_service.core.http.rate_limits import init_rate_limits
    from email_service.core.logging_setup import configure_logging
    from email_service.ops.metrics import init_metrics

    if test_config and "ENV" in test_config:
        reset_settings(load_settings(test_config["ENV"]))
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_message_bytes + 1024 * 1024)
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k != "ENV"})
    app.json.sort_keys = False  # type: ignore[attr-defined]
    register_error_handlers(app)
    init_metrics(app)
    init_auth(app)
    init_rate_limits(app, settings)  # after init_auth: limits are counted per authenticated caller
    register_blueprints(app)
    _load_celery_configuration()
    return app


def register_blueprints(app: Flask) -> None:
    """Every route of the API (also what the OpenAPI document is generated from)."""
    from email_service.accounts import api as accounts
    from email_service.accounts.autoconfig import api as autoconfig
    from email_service.accounts.oauth import api as oauth
    from email_service.core.http import apidoc
    from email_service.core.tasking import api as tasks
    from email_service.deletion import api as delete
    from email_service.events import api as changes
    from email_service.events.webhooks import api as webhooks
    from email_service.messages import api as messages
    from email_service.messages.actions import api as actions
    from email_service.messages.threads import api as threads
    from email_service.notifications import api as notifications
    from email_service.ops import api as health
    from email_service.sending import api as send
    from email_service.sending.drafts import api as drafts
    from email_service.spam import api as spam
    from email_service.sync import api as sync

    for module in (
        health,
        apidoc,
        tasks,
        sync,
        accounts,
        autoconfig,
        oauth,
        messages,
        threads,
        actions,
        delete,
        spam,
        send,
        drafts,
        notifications,
        changes,
        webhooks,
    ):
        app.register_blueprint(module.bp)


def _load_celery_configuration() -> None:
    """Evaluate Celery's lazy configuration now, before request threads exist.

    Its first load is not thread-safe: a gthread worker thread that read it half-built kept a
    DisabledBackend for good, and every task status it served was a 500.
    """
    from email_service.tasks.celery_app import celery_app

    celery_app.conf.result_backend  # noqa: B018 (the read is the point)
