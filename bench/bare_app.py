"""The reference for api_bench.py: a bare Flask JSON endpoint served with the same gunicorn settings."""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.get("/ping")
def ping() -> ResponseReturnValue:
    """About the size and shape of a task status answer, with no auth, database or Redis behind it."""
    return jsonify({"taskId": "bare", "status": "success", "result": {"ok": True}, "error": None})
