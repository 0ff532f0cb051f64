"""Real local receivers for alert delivery: an HTTP server and an SMTP server.

``HttpReceiver`` is an aiohttp server on a free loopback port that records every
request (path, headers, raw body) and answers from a per-path script of statuses
(e.g. ``[500, 500]`` then the default), so retries can be watched. ``SmtpReceiver`` is
aiosmtpd's ``Controller`` (its own thread) keeping every message it accepted.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from frugalflow.infra.process import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    default: dict[str, tuple[int, str]] = field(default_factory=dict)
    delay_s: dict[str, float] = field(default_factory=dict)  # a slow receiver, per path
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> HttpReceiver:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Received(request.path, dict(request.headers), body))
        if request.path in self.delay_s:
            await asyncio.sleep(self.delay_s[request.path])
        queued = self.script[request.path]
        if queued:
            return web.Response(status=queued.pop(0), text="scripted failure")
        status, text = self.default.get(request.path, (200, "ok"))
        return web.Response(status=status, text=text)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, path: str, n: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.at(path)) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return self.at(path)


class _Keep:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append((envelope, message_from_bytes(raw)))
        return "250 Message accepted for delivery"


class SmtpReceiver:
    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _Keep()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[tuple[Envelope, Message]]:
        return self._handler.messages

    async def wait_for(self, n: int, timeout: float = 30) -> list[tuple[Envelope, Message]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return self.messages


def channel_config(http: HttpReceiver, smtp: SmtpReceiver, secret: str) -> dict[str, Any]:
    """``FRUGALFLOW_ALERT_CHANNELS`` pointing every channel type at the receivers."""
    return {
        "ops-hook": {"type": "webhook", "url": f"{http.url}/hook", "secret": secret,
                     "timeout_s": 3},
        "slack": {"type": "slack", "url": f"{http.url}/services/T000/B000/XXXX"},
        "pager": {"type": "pagerduty", "routing_key": "R0UT1NGKEY0000000000000000000000",
                  "url": f"{http.url}/v2/enqueue"},
        "mail": {"type": "email", "host": "127.0.0.1", "port": smtp.port, "starttls": False,
                 "sender": "alerts@frugalflow.test", "to": ["oncall@example.test"]},
    }  # fmt: skip
