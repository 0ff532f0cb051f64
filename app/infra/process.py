"""Small process helpers shared by the local Postgres, Redis and Tansu launchers.

Why this exists: tests and ``make demo`` start *real* servers as child processes
instead of relying on Docker. The three launchers have the same needs -- pick a
free loopback port, start a child whose output goes to a log file (so a failure
can quote the server's own explanation), poll until the server answers, and
stop it politely (signal, wait, then SIGKILL). Keeping that here keeps each
launcher about its server, not about process plumbing.

Children are started in their own session, so a Ctrl-C in the terminal reaches
only our Python process, which then stops them in order. An ``atexit`` hook
stops any child still running when the interpreter exits, so a failed test run
does not leave orphaned servers behind.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import errno
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

__all__ = [
    "InfraError",
    "LocalServer",
    "apt_install",
    "block_until_interrupted",
    "can_bind",
    "data_dir_or_temp",
    "free_port",
    "is_listening",
    "is_root",
    "launch_with_port_retries",
    "log_size",
    "read_log_from",
    "run_command",
    "run_parser",
    "run_sync",
    "serve_until_interrupted",
    "start_process",
    "stop_process",
    "tail",
    "wait_for",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

_live: dict[int, subprocess.Popen[bytes]] = {}
_live_lock = threading.Lock()


class InfraError(RuntimeError):
    """A local server could not be installed, started or reached.

    The message says what failed and, when there is one, quotes the end of the
    server's log so the cause is visible without hunting for files.
    """


def is_root() -> bool:
    """True when running with effective uid 0 (typical in containers and CI)."""
    return os.geteuid() == 0


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now.

    The kernel picks it; there is an unavoidable race until the server binds it,
    so launchers retry with a new port when the server reports it is taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on any address of ``host:port``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    for family, socktype, proto, _canon, addr in infos:
        with socket.socket(family, socktype, proto) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(addr)
            except OSError:
                continue
            return True
    return False


def can_bind(host: str, port: int) -> bool:
    """True if ``host:port`` can be bound now (nothing else holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
        return True


def tail(path: Path | str | None, n: int = 40) -> str:
    """Last ``n`` lines of a log file, or a note saying why there are none."""
    if path is None:
        return "(no log file)"
    p = Path(path)
    try:
        with p.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read()
    except OSError as exc:
        return f"(log {p} unreadable: {exc})"
    lines = data.decode("utf-8", errors="replace").splitlines()
    return "\n".join(lines[-n:]) if lines else f"(log {p} is empty)"


def log_size(path: Path) -> int:
    """Current size of a log file (0 if it does not exist yet): where new output starts."""
    return path.stat().st_size if path.exists() else 0


def read_log_from(path: Path, offset: int) -> str:
    """What a log file gained after ``offset`` (see :func:`log_size`)."""
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read().decode("utf-8", errors="replace")


def data_dir_or_temp(requested: Path | None, prefix: str) -> tuple[Path, Path | None]:
    """The data dir to use, and the temporary one to remove on stop (``None`` if requested).

    ``requested`` is resolved and created; without one a fresh temporary directory is made.
    """
    if requested is not None:
        data_dir = requested.expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        return data_dir, None
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    return tmp, tmp


def launch_with_port_retries(
    launch: Callable[[int], bool],
    requested_port: int | None,
    log_path: Path,
    log_name: str,
) -> None:
    """Call ``launch(port)`` until it succeeds: on ``requested_port``, else up to 3 free ports.

    ``launch`` returns False when the server found its port taken (the race
    :func:`free_port` cannot avoid). When no port is left, raises
    :class:`InfraError` quoting ``log_name`` (``log_path``).
    """
    ports = [requested_port] if requested_port else [free_port() for _ in range(3)]
    for attempt, port in enumerate(ports, start=1):
        if launch(port):
            return
        if attempt == len(ports):
            raise InfraError(f"port {port} is taken; {log_name} ({log_path}):\n" + tail(log_path))
        log.info("port %s was taken; retrying on another port", port)


def wait_for(
    predicate: Callable[[], object],
    timeout: float,
    what: str,
    interval: float = 0.05,
) -> None:
    """Poll ``predicate`` until it returns something truthy.

    Ordinary exceptions count as "not ready yet" (a server refusing connections
    while it boots is expected). :class:`InfraError` propagates at once, so a
    predicate can fail fast, e.g. when the server process has already died.
    Raises :class:`InfraError` naming ``what`` on timeout.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            if predicate():
                return
        except InfraError:
            raise
        except Exception as exc:
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc is not None else ""
            raise InfraError(f"timed out after {timeout:g}s waiting for {what}{detail}")
        time.sleep(interval)


def _user_kwargs(user: str | None, env: dict[str, str]) -> dict[str, Any]:
    """Popen arguments that drop privileges to ``user`` (root only)."""
    if user is None:
        return {}
    try:
        pw = pwd.getpwnam(user)
    except KeyError as exc:
        raise InfraError(f"system user {user!r} does not exist") from exc
    env.update(HOME=pw.pw_dir, USER=user, LOGNAME=user)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def start_process(
    argv: Sequence[str | os.PathLike[str]],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with stdout+stderr appended to ``log_path``.

    ``user`` runs the child as that system user (needs root); Postgres refuses
    to run as root, so this is how a root process starts it. The child gets its
    own session so terminal signals go to us, not to it.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    child_env = dict(os.environ if env is None else env)
    extra = _user_kwargs(user, child_env)
    with log_path.open("ab") as log_file:
        try:
            proc = subprocess.Popen(
                [os.fspath(a) for a in argv],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=child_env,
                cwd=cwd,
                start_new_session=True,
                **extra,
            )
        except OSError as exc:
            raise InfraError(f"could not start {os.fspath(argv[0])}: {exc}") from exc
    with _live_lock:
        _live[proc.pid] = proc
    log.debug("started pid %s: %s (log %s)", proc.pid, " ".join(map(str, argv)), log_path)
    return proc


def stop_process(
    proc: subprocess.Popen[bytes],
    *,
    sig: int = signal.SIGTERM,
    timeout: float = 10.0,
) -> int | None:
    """Send ``sig``, wait up to ``timeout`` seconds, then SIGKILL. Returns the exit code."""
    try:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning(
                    "pid %s ignored signal %s for %.0fs; killing it", proc.pid, sig, timeout
                )
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=10)
        return proc.returncode
    finally:
        with _live_lock:
            _live.pop(proc.pid, None)


@atexit.register
def _stop_leftovers() -> None:
    with _live_lock:
        leftovers = list(_live.values())
    for proc in leftovers:
        stop_process(proc, timeout=5)


def run_command(
    argv: Sequence[str | os.PathLike[str]],
    *,
    what: str,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> str:
    """Run a short command to completion; return its output or raise InfraError quoting it."""
    child_env = dict(os.environ if env is None else env)
    extra = _user_kwargs(user, child_env)
    try:
        done = subprocess.run(
            [os.fspath(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=child_env,
            cwd=cwd,
            timeout=timeout,
            check=False,
            **extra,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InfraError(f"{what} failed: {exc}") from exc
    output = done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0:
        last = "\n".join(output.splitlines()[-30:])
        raise InfraError(f"{what} failed (exit {done.returncode}):\n{last}")
    return output


def apt_install(packages: Sequence[str]) -> None:
    """Install Debian packages with apt-get; refresh the package lists once if needed.

    Only possible as root on a Debian-like system. Fresh containers often ship
    without package lists ("Unable to locate package"), hence the retry after
    ``apt-get update``.
    """
    if not is_root():
        raise InfraError(f"{' '.join(packages)} is not installed and we are not root to install it")
    apt = shutil.which("apt-get")
    if apt is None:
        raise InfraError(f"{' '.join(packages)} is not installed and apt-get is not available")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", "--no-install-recommends", *packages]
    log.warning("installing %s with apt-get (one-time)", " ".join(packages))
    try:
        run_command(install, what="apt-get install", timeout=900, env=env)
    except InfraError:
        log.info("apt-get install failed; running apt-get update and retrying")
        run_command([apt, "update", "-q"], what="apt-get update", timeout=600, env=env)
        run_command(install, what="apt-get install", timeout=900, env=env)


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code.

    Uses a private event loop in a worker thread, so it also works when the
    caller is itself inside a running loop (e.g. an async test calling a
    synchronous ``start()``).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="infra-run-sync") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


class LocalServer:
    """Base of the local server launchers: ``with Server() as s`` calls ``start``/``stop``."""

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_parser(prog: str, help: str) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """A ``prog run [options]`` command line: the parser and its ``run`` subcommand."""
    parser = argparse.ArgumentParser(prog=prog)
    sub = parser.add_subparsers(dest="command", required=True)
    return parser, sub.add_parser("run", help=help)


def serve_until_interrupted(server: LocalServer, env_var: str, describe: Callable[[], str]) -> int:
    """Body of a ``... run`` command: start ``server``, print how to reach it, wait for Ctrl-C.

    Prints ``env_var=<what start() returned>`` and ``# <describe()>; Ctrl-C to stop``.
    Returns the exit code: 1 (with the reason on stderr) when the server cannot start.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        address = server.start()
        print(f"{env_var}={address}", flush=True)
        print(f"# {describe()}; Ctrl-C to stop", flush=True)
        block_until_interrupted()
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    return 0


def block_until_interrupted() -> None:
    """Block until Ctrl-C or SIGTERM (both end the wait normally), for ``... run`` commands."""

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
