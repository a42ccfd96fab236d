"""The API's description, built from the same pydantic models that validate requests.

``@spec(summary=..., query=Model, body=Model, response=Model)`` on a view
validates the query string and/or JSON body with those models (a failure is a
422 with the field path), passes the parsed objects in as ``query=`` and
``body=``, serialises a returned model, and records all of it on the view.
``document(app)`` walks ``app.url_map``, so every route of the ``api``
blueprint is described, with the permission ``@requires`` recorded.

A view that reads a JSON body the decorator must not validate (a contract
document, checked by its own parser with its own error paths) declares it with
``own_body=("ComponentName", Model)``: described as the ``requestBody``, under
that component name (its nested models as ``ComponentName.Nested``, so two
contracts' ``NodeIn`` do not collide), and left to the view to parse.
"""

from __future__ import annotations

import functools
import re

from flask import (
    Blueprint, Response, current_app, jsonify, render_template_string, request, url_for,
)
from pydantic import BaseModel, Field

from webapp.api.auth import PUBLIC, permission_of, public
from webapp.api.keys import idempotency_scope
from webapp.errors import ApiError
from webapp.limits import DB_INT_MAX, ROW_ID_MAX, in_db_int_range

REF = "#/components/schemas/{model}"


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. not_found")
    message: str
    field: str | None = Field(None, description="path of the offending input, e.g. lines[0].qty")
    details: list | dict | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def spec(*, summary: str, response: type[BaseModel] | None = None,
         query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
         own_body: tuple[str, type[BaseModel]] | None = None,
         status: int = 200, tags: tuple[str, ...] = ()):
    if body is not None and own_body is not None:
        raise TypeError("a view's body is either validated here (body=) or by the view "
                        "itself (own_body=), not both")

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            _check_path_ids(kwargs)
            _check_no_nul(kwargs, "")
            _check_no_nul(request.args.to_dict(), "")
            if query is not None:
                kwargs["query"] = _check_page_size(query.model_validate(
                    {k: v for k, v in request.args.items()}))
                _check_db_ints(kwargs["query"])
            elif request.args:   # a parameter nothing reads would be ignored in silence
                name = next(iter(request.args))
                raise ApiError(422, f"unknown query parameter {name!r}: this endpoint takes "
                                    f"no query parameters", field=name)
            if body is not None:
                data = _json_body()
                _check_no_nul(data, "")
                kwargs["body"] = body.model_validate(data)
                _check_db_ints(kwargs["body"])
            result = view(*args, **kwargs)
            if isinstance(result, BaseModel):
                resp = jsonify(result.model_dump(mode="json", by_alias=True))
                resp.status_code = status
                return resp
            return result

        wrapper._openapi = {"summary": summary, "response": response, "query": query,
                            "body": body, "own_body": own_body, "status": status,
                            "tags": tags,
                            "doc": (view.__doc__ or "").strip()}
        return wrapper

    return decorate


def _check_page_size(query: BaseModel) -> BaseModel:
    """``limit`` within ``STOCKROUTE_MAX_PAGE_SIZE`` when that is below the API's 500: a
    larger one asked for is a 422 (never a silently short page); the default is lowered."""
    cap = current_app.config.get("MAX_PAGE_SIZE")
    limit = getattr(query, "limit", None)
    if cap is None or not isinstance(limit, int) or limit <= cap:
        return query
    if "limit" in request.args:
        raise ApiError(422, f"limit must be at most {cap} (STOCKROUTE_MAX_PAGE_SIZE)",
                       field="limit")
    return query.model_copy(update={"limit": cap})


def _check_path_ids(kwargs: dict) -> None:
    """An integer id in the path beyond any row id names nothing: 404."""
    for name, value in kwargs.items():
        if isinstance(value, int) and not 0 <= value <= ROW_ID_MAX:
            raise ApiError(404, f"no {name.replace('_', ' ')} {value}", field=name)


def _nul_at(value, path: str) -> str | None:
    """The path of the first text (a value or a key) that holds a NUL character."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return inner
            found = _nul_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_at(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def _check_no_nul(value, path: str) -> None:
    """No text of a request may hold a NUL character: PostgreSQL cannot store one (it
    was a 500 there), and no code, name or note needs one. 422 naming the field."""
    found = _nul_at(value, path)
    if found is not None:
        raise ApiError(422, f"{found} must not contain a NUL character (\\u0000)", field=found)


def _check_db_ints(parsed, path: str = "") -> None:
    """Every integer of a validated query or body fits a database integer: past
    it SQLite raises OverflowError, so it is refused here (422, naming the field)
    for every endpoint, whatever its model says."""
    if isinstance(parsed, BaseModel):
        for name, value in parsed:
            _check_db_ints(value, f"{path}.{name}" if path else name)
    elif isinstance(parsed, (list, tuple)):
        for i, value in enumerate(parsed):
            _check_db_ints(value, f"{path}[{i}]")
    elif isinstance(parsed, int) and not in_db_int_range(parsed):
        raise ApiError(422, f"{path} must be between {-DB_INT_MAX - 1} and {DB_INT_MAX}",
                       field=path)


def max_request_bytes() -> int | None:
    """``STOCKROUTE_MAX_REQUEST_BYTES`` (the app's ``MAX_CONTENT_LENGTH``)."""
    return current_app.config.get("MAX_CONTENT_LENGTH")


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body is larger than the limit of {limit} bytes "
                         f"(STOCKROUTE_MAX_REQUEST_BYTES)", field="Content-Length")


def check_time_limit(seconds: float, field: str) -> None:
    """Refuse a solve longer than an HTTP request may take (``STOCKROUTE_MAX_SOLVE_SECONDS``):
    past gunicorn's worker timeout the worker would be killed mid-request."""
    limit = current_app.config["MAX_SOLVE_SECONDS"]
    if seconds > limit:
        raise ApiError(422, f"at most {limit:g} seconds over HTTP (STOCKROUTE_MAX_SOLVE_SECONDS); "
                            f"run longer solves from the command line", field=field)


def _json_body():
    if not request.is_json:
        raise ApiError(415, "send the body as application/json", field="Content-Type")
    limit = max_request_bytes()
    if limit and (request.content_length or 0) > limit:
        raise too_large(limit)
    if limit and request.content_length is None:
        # chunked: the body is cut at the limit as it is read; anything left over is too much
        if len(request.get_data(cache=True)) >= limit and request.environ["wsgi.input"].read(1):
            raise too_large(limit)
    try:
        data = request.get_json(silent=True)
    except RecursionError:   # the parser's own limit: a 500 and a stack trace otherwise
        data = _TOO_DEEP
    if data is _TOO_DEEP or (data is not None and _depth_over(data, MAX_JSON_DEPTH)):
        raise ApiError(400, f"the body is not valid JSON: nested more than {MAX_JSON_DEPTH} "
                            "levels deep")
    if data is None:
        raise ApiError(400, "the body is not valid JSON")
    return data


# No contract nests more than a handful of levels; deeper bodies are refused before
# anything walks them (the checks and the models recurse, and so did a 500).
MAX_JSON_DEPTH = 32
_TOO_DEEP = object()


def _depth_over(data, limit: int) -> bool:
    """Whether ``data`` nests lists and objects more than ``limit`` levels (iterative)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items if isinstance(item, (dict, list)))
    return False


# --------------------------------------------------------------------------- the document

_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _openapi_path(rule: str) -> tuple[str, list[dict]]:
    params = []
    for converter, name in _PARAM.findall(rule):
        kind = "integer" if converter == "int" else "string"
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": kind}})
    return _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule), params


def _schema(model: type[BaseModel], components: dict, mode: str,
            name: str | None = None) -> dict:
    """The model as a component; with ``name``, under that name and with its nested
    models namespaced as ``name.Nested``."""
    if name is None:
        schema = model.model_json_schema(ref_template=REF, mode=mode)
        components.update(schema.pop("$defs", {}))
    else:
        schema = model.model_json_schema(ref_template=REF.format(model=name + ".{model}"),
                                         mode=mode)
        components.update({f"{name}.{k}": v for k, v in schema.pop("$defs", {}).items()})
    components[name or model.__name__] = schema
    return {"$ref": REF.format(model=name or model.__name__)}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(
                model="ErrorResponse")}}}}


def _operation(view, meta: dict, path_params: list[dict], components: dict) -> dict:
    permission = permission_of(view)
    op: dict = {"operationId": view.__name__, "summary": meta["summary"],
                "parameters": list(path_params), "x-permission": permission,
                "responses": {}}
    if meta["doc"]:
        op["description"] = meta["doc"]
    if meta["tags"]:
        op["tags"] = list(meta["tags"])
    if idempotency_scope(view) is not None:
        op["parameters"].append({
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "a retry with the same key and request gets the first answer and "
                           "applies nothing; another request with the key, or one while the "
                           "first still runs, is 409"})
        op["responses"]["409"] = _error("a conflict; among them idempotency_conflict and "
                                        "idempotency_in_progress")
    if meta["query"] is not None:
        schema = meta["query"].model_json_schema(ref_template=REF, mode="validation")
        components.update(schema.pop("$defs", {}))
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop["description"]
            op["parameters"].append(param)
    if meta["body"] is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": _schema(meta["body"], components, "validation")}}}
    elif meta.get("own_body") is not None:
        name, model = meta["own_body"]
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": _schema(model, components, "validation", name)}}}
    ok = {"description": "OK"}
    if meta["response"] is not None:
        ok["content"] = {"application/json": {
            "schema": _schema(meta["response"], components, "serialization")}}
    op["responses"][str(meta["status"])] = ok
    if permission != PUBLIC:
        op["security"] = [{"bearer": [permission]}]
        op["responses"]["401"] = _error("no, unknown, expired or revoked token")
        op["responses"]["403"] = _error(f"the token lacks the scope {permission}")
    op["responses"]["404"] = _error("not found")
    op["responses"]["422"] = _error("invalid input; `field` names it")
    return op


def document(app) -> dict:
    components = {"ErrorBody": ErrorBody.model_json_schema(ref_template=REF)}
    components["ErrorResponse"] = ErrorResponse.model_json_schema(ref_template=REF)
    components["ErrorResponse"].pop("$defs", None)
    paths: dict = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "_openapi", None)
        if meta is None or not rule.rule.startswith("/api/v1/"):
            continue
        path, params = _openapi_path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(view, meta, params,
                                                                    components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "stockroute API", "version": "1",
                 "description": "Order operations: inventory ledger, orders, purchasing. "
                                "Errors are always {\"error\": {\"code\", \"message\", "
                                "\"field\"}}."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "sr_<id>_<secret>",
                "description": "API token from `stockroute tokens create`; scopes are "
                               "listed per operation (x-permission)."}},
        },
    }


# --------------------------------------------------------------------------- serving it

docs_bp = Blueprint("apidocs", __name__)

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stockroute API</title>
<link rel="stylesheet" href="{{ url_for('static', filename='vendor/swagger-ui/swagger-ui.css') }}">
</head><body><div id="swagger-ui" data-spec-url="{{ spec_url }}"></div>
<script src="{{ url_for('static', filename='vendor/swagger-ui/swagger-ui-bundle.js') }}"></script>
<script src="{{ url_for('static', filename='api-docs.js') }}"></script>
</body></html>"""


@docs_bp.get("/api/openapi.json")
@public
def openapi_json():
    cached = current_app.extensions.get("stockroute.openapi")
    if cached is None:
        cached = current_app.extensions["stockroute.openapi"] = document(current_app)
    return jsonify(cached)


@docs_bp.get("/api/docs")
@public
def api_docs():
    return Response(render_template_string(DOCS_PAGE, spec_url=url_for("apidocs.openapi_json")),
                    mimetype="text/html")


