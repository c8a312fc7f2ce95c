"""Liveness, readiness and Prometheus metrics (no auth: they reveal no tenant data)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST

from email_service.ops.metrics import render_metrics
from email_service.ops.readiness import readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks = readiness()
    ready = all(v is None for v in checks.values())
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {k: v or "ok" for k, v in checks.items()},
    }
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    return Response(render_metrics(), mimetype=CONTENT_TYPE_LATEST)
