"""Every endpoint that reads a JSON body declares it as the operation's requestBody, and
only those do: the plan endpoints describe the routing and replenishment problems, the
same schemas as docs/schemas/*.schema.json."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from webapp import create_app
from webapp.api.openapi import document
from webapp.config import TestConfig

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
# reading the request body inside a view, not through @spec(body=...)
READS_BODY = re.compile(r"_json_body\(|get_json\(|request\.(json|data|form|stream)\b")
# the POST endpoints whose path names all they act on
NO_BODY = {
    ("/api/v1/exceptions/{exception_id}/acknowledge", "post"),
    ("/api/v1/exceptions/{exception_id}/reroute", "post"),
    ("/api/v1/orders/{order_id}/deliver", "post"),
    ("/api/v1/orders/{order_id}/release", "post"),
    ("/api/v1/orders/{order_id}/unhold", "post"),
    ("/api/v1/purchase-orders/{code}/cancel", "post"),
    ("/api/v1/returns/{code}/receive", "post"),
}


@pytest.fixture(scope="module")
def app():
    return create_app(TestConfig(DATABASE_URL="sqlite://"))


@pytest.fixture(scope="module")
def doc(app):
    return document(app)


def _operations(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            yield path, method.lower(), view


def _reads_body(view) -> bool:
    meta = view._openapi
    if meta["body"] is not None:
        return True
    return bool(READS_BODY.search(inspect.getsource(inspect.unwrap(view))))


def test_exactly_the_endpoints_that_read_a_body_declare_a_request_body(app, doc):
    reads, declares, writes = set(), set(), set()
    for path, method, view in _operations(app):
        op = doc["paths"][path][method]
        if _reads_body(view):
            reads.add((path, method))
        if "requestBody" in op:
            declares.add((path, method))
            assert op["requestBody"]["required"] is True
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.split("/")[-1] in doc["components"]["schemas"], ref
        if method != "get":
            writes.add((path, method))
    assert {("/api/v1/routing/plan", "post"), ("/api/v1/replenishment/plan", "post")} <= reads
    assert reads == declares, {"undeclared": reads - declares, "not read": declares - reads}
    # the rest of the writes take no body: nothing in the document may say otherwise
    assert writes - declares == NO_BODY


@pytest.mark.parametrize("path, component, committed", [
    ("/api/v1/routing/plan", "RoutingProblem", "routing-problem.schema.json"),
    ("/api/v1/replenishment/plan", "ReplenishmentProblem", "replenishment-problem.schema.json"),
])
def test_the_plan_endpoints_take_the_contract_problems(doc, path, component, committed):
    body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": f"#/components/schemas/{component}"}
    schemas = doc["components"]["schemas"]
    # the component and its nested models are the committed JSON Schema, refs moved under
    # the component's own prefix (the two contracts both have a NodeIn and a PolicyIn)
    prefix = f"#/components/schemas/{component}."
    rebuilt = json.loads(json.dumps(schemas[component]).replace(prefix, "#/$defs/"))
    nested = {k[len(component) + 1:]: v for k, v in schemas.items()
              if k.startswith(component + ".")}
    rebuilt["$defs"] = json.loads(json.dumps(nested).replace(prefix, "#/$defs/"))
    assert rebuilt == json.loads((SCHEMAS / committed).read_text())


def test_the_two_problems_do_not_overwrite_each_others_nested_models(doc):
    schemas = doc["components"]["schemas"]
    assert "receiving_capacity" in schemas["ReplenishmentProblem.NodeIn"]["properties"]
    assert "receiving_capacity" not in schemas["RoutingProblem.NodeIn"]["properties"]
