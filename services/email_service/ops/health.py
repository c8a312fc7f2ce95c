"""Liveness, readiness and Prometheus metrics (no auth: they reveal no tenant data)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from email_service.core.db import get_engine
from email_service.ops.metrics import render_metrics
from email_service.tasks.celery_app import celery_app

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


def _check_database() -> str | None:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; the type is enough for operators
        return type(exc).__name__
    return None


def _check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            conn.default_channel.client.ping()
    except Exception as exc:
        return type(exc).__name__
    return None


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks = {"database": _check_database(), "broker": _check_broker()}
    ready = all(v is None for v in checks.values())
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {k: v or "ok" for k, v in checks.items()},
    }
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    return Response(render_metrics(), mimetype=CONTENT_TYPE_LATEST)
