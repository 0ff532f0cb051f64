"""The OpenAPI 3.1 document, built from the operation table and the pydantic models.

Bodies and query parameters use the models' validation schemas, responses their
serialization schemas (money is a decimal string there), all under
``components/schemas``. Every authenticated operation documents 401/403 and the error
body; the bearer scheme is the document-wide default, which public routes override.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from frugalflow.api.errors import ErrorBody
from frugalflow.api.routing import Operation

REF = "#/components/schemas/{model}"
_DESCRIPTIONS = {
    200: "OK", 201: "Created", 204: "No content", 400: "Bad request (code bad_request)",
    401: "Missing or malformed token, or no token configured (code unauthorized)",
    403: "Wrong token, or the read-only token on a write (code forbidden)",
    404: "Unknown resource or route (code not_found)", 409: "Conflict (code conflict)",
    422: "Invalid body (code validation_error; policies: unknown_policy_field or "
         "invalid_policy_value; details: field errors)",
    500: "Internal error (code internal_error)",
    503: "Postgres or Redis unavailable (database_unavailable, cache_unavailable)",
}  # fmt: skip


def build_document(operations: Sequence[Operation], *, version: str) -> dict[str, Any]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for op in operations:
        if op.query is not None:
            wanted.append((op.query, "validation"))
        if op.body is not None:
            wanted.append((op.body, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF)
    schemas: dict[str, Any] = top.get("$defs", {})
    error_ref = refs[(ErrorBody, "serialization")]

    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        parameters = [
            {"name": p.name, "in": "path", "required": True, "description": p.description,
             "schema": p.schema}
            for p in op.path_params
        ]  # fmt: skip
        if op.query is not None:
            parameters += _query_parameters(schemas, refs[(op.query, "validation")])
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": parameters,
            "responses": _responses(op, refs, error_ref),
        }
        if op.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        if op.public:
            item["security"] = []
        paths.setdefault(op.path, {})[op.method.lower()] = item

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FrugalFlow admin API",
            "version": version,
            "description": "Budgets, tenant policies, cost reports, experiments and cache "
            "control. Money is a "
            "decimal string, dates are ISO 8601 (inclusive UTC days). Errors: "
            '{"error": {"code", "message", "details"?}}.',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _responses(op: Operation, refs: dict[Any, Any], error_ref: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in (op.status, *op.also):
        entry: dict[str, Any] = {"description": _DESCRIPTIONS.get(status, "OK")}
        if op.response is not None:
            entry["content"] = {op.media: {"schema": refs[(op.response, "serialization")]}}
        elif status != 204:
            plain = {"type": "string"} if op.media.startswith("text/") else {"type": "object"}
            entry["content"] = {op.media: {"schema": plain}}
        responses[str(status)] = entry
    errors = set(op.errors) | {500}
    if not op.public:
        errors |= {400, 401, 403, 404, 503}
    for status in sorted(errors - {op.status, *op.also}):
        responses[str(status)] = {
            "description": _DESCRIPTIONS[status],
            "content": {"application/json": {"schema": error_ref}},
        }
    return responses


def _query_parameters(schemas: dict[str, Any], ref: dict[str, Any]) -> list[dict[str, Any]]:
    model = schemas[ref["$ref"].rsplit("/", 1)[1]]
    required = set(model.get("required", ()))
    out = []
    for name, schema in model.get("properties", {}).items():
        schema = _not_null(dict(schema))
        parameter = {"name": name, "in": "query", "required": name in required, "schema": schema}
        if "description" in schema:
            parameter["description"] = schema.pop("description")
        out.append(parameter)
    return out


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` → ``X``: an absent query parameter is the null."""
    options = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    if "anyOf" in schema and len(options) == 1:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**options[0], **rest}
    return {k: v for k, v in schema.items() if k != "default" or v is not None}
