"""The generated OpenAPI document covers every /api route with declared response models, and the docs
page is Swagger UI loaded only from this server (no token needed, no outside URL)."""

from __future__ import annotations

import re
from typing import Any

DOCS_ROUTES = {"/api/openapi.json", "/api/docs", "/api/docs/assets/<name>"}  # the documentation itself


def _api_operations(app: Any) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule not in DOCS_ROUTES:
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            found |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_every_api_route_is_in_the_spec(app: Any, client: Any) -> None:
    spec = client.get("/api/openapi.json").get_json()
    documented = {(method, path) for path, item in spec["paths"].items() for method in item}
    routes = _api_operations(app)
    assert len(routes) >= 20
    assert routes - documented == set(), "routes missing from the spec"
    assert documented - routes == set(), "spec operations without a route"


def test_every_response_has_a_model_with_required_fields(client: Any) -> None:
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation["summary"] and "<" not in operation["summary"], (method, path)  # a docstring
            for status, response in operation["responses"].items():
                if status == "204":
                    assert "content" not in response
                    continue
                content = response["content"]
                assert content, (method, path, status)
                if status.startswith("4") or status.startswith("5"):
                    assert content["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorResponse"
                    }
    for name, schema in schemas.items():
        if name.endswith(("Request", "Query", "Headers", "Form", "Create", "Update")):
            continue  # inputs: optional fields are optional
        properties = set(schema.get("properties", {}))
        assert properties, name
        assert set(schema.get("required", [])) == properties, f"{name}: every response field is required"
        assert schema.get("additionalProperties") is False, name


def test_error_model_matches_a_real_error(client: Any) -> None:
    body = client.get("/api/tasks/nope").get_json()  # no token: 401
    error = client.get("/api/openapi.json").get_json()["components"]["schemas"]["ErrorBody"]
    assert set(body["error"]) == set(error["required"])


def test_docs_page_and_its_assets_load_without_token_or_outside_url(client: Any) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "SwaggerUIBundle(" in html and 'url: "/api/openapi.json"' in html
    assert "validatorUrl: null" in html  # Swagger UI would otherwise send the spec to an outside validator
    assert not re.search(r"(?i)(?:https?:)?//", html), "an outside URL"
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"swagger-ui-bundle.js", "swagger-ui.css"} <= {ref.rsplit("/", 1)[-1] for ref in refs}
    for ref in refs:
        assert ref.startswith("/api/docs/assets/"), ref
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.data) > 100, ref
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").mimetype in {
        "text/javascript",
        "application/javascript",
    }
    assert client.get("/api/docs/assets/swagger-ui.css").mimetype == "text/css"


def test_only_the_pages_own_assets_are_served(client: Any) -> None:
    for name in ["swagger-editor-bundle.js", "swagger-ui-bundle.js.map", "..%2F__init__.py", "LICENSE", "x"]:
        response = client.get(f"/api/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.get_json()["error"]["code"] == "not_found", name
