"""``/v1/session``: what the token sent may do (the console asks once after login)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from app.api.auth import ROLE
from app.api.routing import Operation, json


class Session(BaseModel):
    role: Literal["admin", "readonly"]
    can_write: bool


async def session(request: web.Request) -> web.Response:
    role = request[ROLE]
    return json(Session(role=role, can_write=role == "admin"))


OPERATIONS = [
    Operation("GET", "/v1/session", session, "The token's role (admin or read-only)", "meta",
              "session", response=Session),
]  # fmt: skip
