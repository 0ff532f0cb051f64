"""The emulator HTTP server: app factory, in-loop test server, and the blocking CLI runner.

Point the official SDKs at it unchanged::

    async with EmulatorServer(EmulatorConfig(batch_delay_s=0.2)) as server:
        anthropic.AsyncAnthropic(api_key="x", base_url=server.anthropic_base_url)
        openai.AsyncOpenAI(api_key="x", base_url=server.openai_base_url)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from types import TracebackType

from aiohttp import web

from frugalflow.emulator import (
    anthropic_api,
    anthropic_batches,
    compatible_api,
    control,
    gemini_api,
    gemini_batches,
    openai_api,
    openai_batches,
    openai_files,
)
from frugalflow.emulator.config import EmulatorConfig
from frugalflow.emulator.middleware import api_middleware
from frugalflow.emulator.state import STATE_KEY, EmulatorState

log = logging.getLogger(__name__)

# In-flight handlers (e.g. a hanging "timeout" fault) must not hold shutdown for long.
SHUTDOWN_TIMEOUT_S = 2.0


def create_app(config: EmulatorConfig) -> web.Application:
    app = web.Application(
        middlewares=[gemini_api.google_error_middleware, api_middleware],
        client_max_size=512 * 1024 * 1024,
    )
    state = EmulatorState(config)
    app[STATE_KEY] = state
    for module in (
        anthropic_api,
        anthropic_batches,
        openai_api,
        openai_files,
        openai_batches,
        compatible_api,
        gemini_api,
        gemini_batches,
        control,
    ):
        app.add_routes(module.routes())

    async def _on_shutdown(_: web.Application) -> None:
        state.stopping.set()  # wake hanging fault handlers
        await state.runner.cancel_all()

    app.on_shutdown.append(_on_shutdown)
    return app


class EmulatorServer:
    """Runs the emulator in the current event loop on ``host`` (default 127.0.0.1).

    ``port=0`` picks a free port; read the real one from ``port``/``base_url`` after start.
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.app = create_app(config or EmulatorConfig())
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None

    @property
    def state(self) -> EmulatorState:
        return self.app[STATE_KEY]

    @property
    def config(self) -> EmulatorConfig:
        return self.state.config

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmulatorServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url  # the Anthropic SDK appends /v1/...

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"  # the OpenAI SDK appends /chat/completions, ...

    @property
    def openrouter_base_url(self) -> str:
        return self.base_url + "/openrouter/api/v1"  # OpenRouter's https://openrouter.ai/api/v1

    @property
    def cerebras_base_url(self) -> str:
        return self.base_url + "/cerebras/v1"  # Cerebras' https://api.cerebras.ai/v1

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(
            self.app,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            handler_cancellation=True,  # a client that gave up cancels its hanging handler
            access_log=None,  # request lines could carry secrets in query strings; keep quiet
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._requested_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.info("provider emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def serve_until_stopped(host: str, port: int, config: EmulatorConfig) -> None:
    """Serve until SIGINT/SIGTERM (or cancellation), then shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # e.g. not main thread
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        async with EmulatorServer(config, host=host, port=port) as server:
            log.info(
                "emulator ready: anthropic=%s openai=%s",
                server.anthropic_base_url,
                server.openai_base_url,
            )
            await stop.wait()
            log.info("emulator stopping")
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def run(host: str, port: int, config: EmulatorConfig) -> None:
    """Blocking entry point for ``frugalflow emulator``."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_until_stopped(host, port, config))
