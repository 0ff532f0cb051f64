"""Operations as data: each route is declared once, with what it reads and returns.

``frugalflow.api.app`` registers them with aiohttp and ``frugalflow.api.openapi`` documents
them, so a route cannot exist undocumented. Handlers read their inputs with ``query`` and
``body`` and answer with ``json``.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from frugalflow.api.errors import ApiError, Handler, bad_request, field_errors
from frugalflow.api.state import ApiState

M = TypeVar("M", bound=BaseModel)

STATE = web.AppKey("frugalflow_api_state", ApiState)


@dataclass(frozen=True)
class PathParam:
    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    operation_id: str
    path_params: tuple[PathParam, ...] = ()
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None  # None: no JSON body (see media / status)
    status: int = 200
    also: tuple[int, ...] = ()  # other statuses answered with ``response`` (e.g. /ready 503)
    media: str = "application/json"
    errors: tuple[int, ...] = ()  # besides 401/403 (authenticated) and 500
    public: bool = False


TENANT = PathParam(
    "tenant", "tenant id",
    {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[^\x00-\x1f\x7f/]+$"},
)  # fmt: skip
EXPERIMENT_ID = PathParam(
    "id", "experiment id",
    {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[^\x00-\x1f\x7f/]+$"},
)  # fmt: skip


def state(request: web.Request) -> ApiState:
    return request.app[STATE]


def path_param(request: web.Request, param: PathParam) -> str:
    value = request.match_info[param.name]
    if not 1 <= len(value) <= 128 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise bad_request(f"invalid {param.description}")
    return value


def query(request: web.Request, model: type[M]) -> M:
    """The query string as ``model``; 400 ``bad_request`` with field errors otherwise."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise bad_request("invalid query parameters", field_errors(exc.errors())) from None


async def body(request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model``: 400 when it is not JSON, 422 when it does not fit."""
    try:
        payload = jsonlib.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise bad_request("the body is not valid JSON") from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ApiError(
            422, "validation_error", "the body is invalid", field_errors(exc.errors())
        ) from None


def json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(text=model.model_dump_json(), status=status)
