"""Every /api/ route (from the Flask url_map, so new ones are included) refuses missing, expired,
forged and tenant-less tokens with a JSON 401, before it looks at ids or bodies."""

from __future__ import annotations

import re
import time
from typing import Any

import jwt

from tests.conftest import Caller

PUBLIC = {"/api/openapi.json", "/api/docs", "/api/docs/assets/<name>"}


def _routes(app: Any) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule not in PUBLIC:
            path = re.sub(r"<[^>]+>", "x", rule.rule)
            routes += [(method.lower(), path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def _tokens(owner: Caller) -> dict[str, str | None]:
    secret, now = "test-secret-" + "x" * 40, int(time.time())
    claims = {"sub": owner.user_id, "tenant_id": owner.tenant_id}
    return {
        "missing": None,
        "expired": jwt.encode({**claims, "exp": now - 5}, secret),
        "invalid": jwt.encode({**claims, "exp": now + 60}, "y" * 40),
        "tenant_id": jwt.encode({"sub": owner.user_id, "exp": now + 60}, secret),
        "garbage": "not.a.jwt",
    }


def test_every_route_refuses_bad_tokens(app, client, owner: Caller) -> None:
    routes = _routes(app)
    assert len(routes) >= 20  # accounts, messages, send, delete, spam, tasks
    for method, path in routes:
        for reason, token in _tokens(owner).items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = getattr(client, method)(path, headers=headers, json={})
            assert response.status_code == 401, (method, path, reason, response.status_code)
            error = response.get_json()["error"]
            assert error["code"] == "unauthorized", (method, path, reason)
            if reason in {"expired", "invalid", "tenant_id"}:
                assert reason in error["message"], (method, path, error)
