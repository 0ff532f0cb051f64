"""``/v1/session``: what the token sent may do (the console asks once after login)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from frugalflow.api.auth import Role, bearer_token, role_of
from frugalflow.api.routing import Operation, json, state


class Session(BaseModel):
    role: Role
    can_write: bool


async def session(request: web.Request) -> web.Response:
    token = bearer_token(request)  # the auth middleware let it through: a known token
    role = role_of(token, state(request).settings) if token else None
    assert role is not None
    return json(Session(role=role, can_write=role == "admin"))


OPERATIONS = [
    Operation("GET", "/v1/session", session, "The token's role (admin or read-only)", "meta",
              "session", response=Session),
]  # fmt: skip
