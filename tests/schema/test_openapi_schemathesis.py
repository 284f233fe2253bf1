"""Schemathesis over both documented APIs: no 5xx, and every 4xx a JSON error that names where.

The analyst API's document is the one the app serves (/api/v1/openapi.json);
the TAXII 2.1 API's is its companion, functions/steppe/taxii/openapi.json.
Requests go through the embedded shape's real WSGI gateway (API Gateway event,
authorizer, handler, SQLite store), in process, with the admin key. The
budget is fixed (MAX_EXAMPLES per operation) and the examples derandomized,
so every run sends the same requests.

Path parameters are given the ids of a small seeded world (a submission, its
campaign and indicator, the default collection) next to generated ones, so the
operations are exercised past their 404s.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from steppe.taxii import media
from support.app import App, example, open_app

MAX_EXAMPLES = 15
TAXII_DOCUMENT = Path(media.__file__).resolve().parent / "openapi.json"
TAXII = "application/taxii+json;version=2.1"
# Operations that would lock the test out (the admin's own key) are given other names.
SPARED_PARTNER = "schemathesis-partner"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, dict[str, list[str]]]]:
    app = open_app(tmp_path_factory.mktemp("schema") / "data", "sqlite")
    try:
        reply = app.submit(example())
        assert reply.status == 201, reply.body
        submission = reply.json()
        ids = [i for group in (submission.get("objects") or {}).values() for i in group]
        campaign = next((i for i in ids if i.startswith("campaign--")), str(uuid.uuid4()))
        indicator = next((i for i in ids if i.startswith("indicator--")), str(uuid.uuid4()))
        known = {
            "submission_id": [submission["id"], str(uuid.uuid4())],
            "campaign_id": [campaign, "campaign--" + str(uuid.uuid4())],
            "indicator_id": [indicator, "indicator--" + str(uuid.uuid4())],
            "object_id": [indicator, campaign, "indicator--" + str(uuid.uuid4())],
            "collection_id": [app.default_collection, str(uuid.uuid4())],
            "api_root": [app.settings.api_root, "elsewhere"],
            "name": [SPARED_PARTNER, "nobody"],
        }
        yield app, known
    finally:
        app.close()


def _with_known_ids(document: dict[str, Any], known: dict[str, list[str]]) -> dict[str, Any]:
    """The document with each path parameter drawn from the world's ids.

    Its security schemes are left out: every request carries the admin key (a
    generated Authorization header would only test the authorizer's 401).
    """
    document = json.loads(json.dumps(document))
    document.pop("security", None)
    document.get("components", {}).pop("securitySchemes", None)
    parameters = list(document.get("components", {}).get("parameters", {}).values())
    for path_item in document["paths"].values():
        for operation in path_item.values():
            operation.pop("security", None)
            parameters += operation.get("parameters", [])
    for parameter in parameters:
        if parameter.get("in") == "path" and parameter.get("name") in known:
            parameter["schema"] = {"type": "string", "enum": known[parameter["name"]]}
    return document


def _problems(schema: schemathesis.BaseSchema, app: App, check: Any) -> list[str]:
    """Run every operation of `schema`; what `check` finds wrong, one line each."""
    found: list[str] = []
    for result in schema.get_all_operations():
        _exercise(result.ok(), app, check, found)
    return found


def _as_sent(gateway: Any) -> Any:
    """The gateway, given the request target a server sends (werkzeug's test client
    sets REQUEST_URI to the path alone, and the gateway reads the query from it)."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        query = environ.get("QUERY_STRING")
        for name in ("REQUEST_URI", "RAW_URI"):
            if query and name in environ and "?" not in environ[name]:
                environ[name] = f"{environ[name]}?{query}"
        return gateway(environ, start_response)

    return wsgi


def _exercise(operation: Any, app: App, check: Any, found: list[str]) -> None:
    auth = {"Authorization": f"Bearer {app.admin_key}"}
    gateway = _as_sent(app.gateway)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=auth, app=gateway)
        problem = check(response)
        if problem:
            found.append(
                f"{operation.label} path={case.path_parameters} query={case.query} "
                f"body={str(case.body)[:120]!r}: {response.status_code} {problem}"
            )

    run()


def _content_type(response: Any) -> str:
    for name, value in response.headers.items():
        if name.lower() == "content-type":
            return value[0] if isinstance(value, list) else value
    return ""


def _analyst_error(response: Any) -> str | None:
    if response.status_code >= 500:
        return response.text[:200]
    if response.status_code < 400:
        return None
    if not _content_type(response).startswith("application/json"):
        return f"an error as {_content_type(response)!r}"
    body = response.json()
    if not isinstance(body, dict) or not str(body.get("description", "")).strip():
        return f"no sentence: {response.text[:200]}"
    if not str(body.get("where", "")).strip():
        return f"does not say where: {response.text[:200]}"
    return None


def _taxii_error(response: Any) -> str | None:
    if _content_type(response) != TAXII:
        return f"Content-Type {_content_type(response)!r}"
    if response.status_code >= 500:
        return response.text[:200]
    if response.status_code < 400:
        return None
    body = response.json()
    if not isinstance(body, dict) or not str(body.get("description", "")).strip():
        return f"no sentence: {response.text[:200]}"
    if body.get("http_status") != str(response.status_code):
        return f"http_status {body.get('http_status')}"
    if not str((body.get("details") or {}).get("where", "")).strip():
        return f"does not say where: {response.text[:200]}"
    return None


def test_the_analyst_api_never_fails_and_names_what_is_wrong(
    world: tuple[App, dict[str, list[str]]],
):
    app, known = world
    served = app.request("GET", "/api/v1/openapi.json")
    assert served.status == 200
    schema = schemathesis.openapi.from_dict(_with_known_ids(served.json(), known))
    assert _problems(schema, app, _analyst_error) == []


def test_the_taxii_api_never_fails_and_names_what_is_wrong(
    world: tuple[App, dict[str, list[str]]],
):
    app, known = world
    document = json.loads(TAXII_DOCUMENT.read_text(encoding="utf-8"))
    schema = schemathesis.openapi.from_dict(_with_known_ids(document, known))
    assert _problems(schema, app, _taxii_error) == []


def test_the_taxii_document_describes_every_taxii_route():
    document = json.loads(TAXII_DOCUMENT.read_text(encoding="utf-8"))
    template = (Path(__file__).resolve().parents[2] / "template.yaml").read_text()
    routes = {
        line.split("Path:", 1)[1].strip()
        for line in template.splitlines()
        if "Path: /taxii2" in line
    }
    described = {path.rstrip("/") for path in document["paths"]}
    assert described == {route.rstrip("/") for route in routes}
    names = {p["name"] for p in document["components"]["parameters"].values()}
    assert {"limit", "added_after", "next", "match[id]", "match[type]"} <= names
    assert {"match[version]", "match[spec_version]", "Accept"} <= names
