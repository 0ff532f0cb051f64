"""A real single-node Apache Kafka (KRaft) broker, started from the official jars, no Docker.

Flow:

1. **resolve** - :func:`resolve_jars` runs Maven once on the packaged ``kafka_jars/pom.xml`` to
   copy ``org.apache.kafka:kafka_2.13`` and its runtime dependencies (plus a log4j2 binding) into
   a cache directory (``~/.cache/frugalflow/kafka`` or ``$FRUGALFLOW_KAFKA_CACHE``). A marker
   keyed by the pom's SHA-256 makes every later call a cheap cache hit that never runs ``mvn``.
2. **format once** - :meth:`ApacheKafkaBroker.start` writes ``server.properties`` and, only if
   the log dir has no ``meta.properties`` yet, runs ``kafka.tools.StorageTool format
   --standalone`` (what ``kafka-storage.sh format`` runs) so a restart keeps its data.
3. **run** - it launches ``java -cp <libs>/* kafka.Kafka server.properties`` (what
   ``kafka-server-start.sh`` runs) with stdout/stderr appended to ``<data_dir>/broker.log``.
4. **wait ready** - it polls the broker with an aiokafka admin metadata request until the broker
   lists itself as an alive node, failing with the log's tail on timeout or early exit.

Startup speed: the first broker run that stops gracefully dumps an AppCDS archive of the loaded
classes next to the jars (validated, then atomically swapped in); later JVMs map it and boot in
about half the time. ``FRUGALFLOW_KAFKA_CDS=0`` turns this off.

The chosen ports are saved in ``<data_dir>/broker-ports.json`` because the KRaft quorum records
the controller endpoint at format time: re-opening the same data dir must reuse it.
"""

# The broker's parts live next to this module, one concern each: kafka_jar_cache (fetch and
# cache the jars), kafka_jvm (java, JVM flags, class-data archive), kafka_broker_config
# (server.properties and saved ports). This module starts, probes and stops the broker.

from __future__ import annotations

import argparse
import asyncio
import atexit
import base64
import contextlib
import logging
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Final

from aiokafka.admin import AIOKafkaAdminClient

from frugalflow.infra.kafka_broker_config import choose_ports, save_ports, server_properties
from frugalflow.infra.kafka_jar_cache import (
    CACHE_ENV,
    KafkaHarnessError,
    default_cache_dir,
    log4j2_config_path,
    resolve_jars,
    tail_lines,
)
from frugalflow.infra.kafka_jvm import (
    CDS_QUIET,
    JVM_OPTS,
    cds_archive,
    checked_archive,
    drop_stale_dumps,
    java_binary,
    publish_archive,
)
from frugalflow.infra.process import (
    LocalServer,
    is_listening,
    log_size,
    read_log_from,
    start_process,
    stop_process,
)

log = logging.getLogger(__name__)

KAFKA_MAIN_CLASS: Final = "kafka.Kafka"  # behind bin/kafka-server-start.sh
STORAGE_TOOL_CLASS: Final = "kafka.tools.StorageTool"  # behind bin/kafka-storage.sh

_BROKER_LOG: Final = "broker.log"


def _new_cluster_id(random_bytes: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """Same format as `kafka-storage.sh random-uuid`: 16 random bytes, url-safe base64, no
    pad. Like Kafka's ``Uuid.randomUuid``, never one starting with "-": the storage tool's
    argument parser would read it as an option (1 start in 64 failed before this)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(random_bytes()).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


async def _alive_brokers(bootstrap: str, timeout_s: float) -> int:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=max(1000, int(timeout_s * 1000)),
        client_id="frugalflow-harness-probe",
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout_s)
        return len(cluster.get("brokers", []))
    finally:
        await admin.close()


def _probe_ready(bootstrap: str, timeout_s: float = 1.5) -> bool:
    """True once the broker answers a metadata request listing itself (it is unfenced).

    Runs its own event loop in a worker thread, so ``start()`` also works when called from
    inside a running loop (an ``async def`` test).
    """
    result: list[bool] = [False]

    def probe() -> None:
        with contextlib.suppress(Exception):
            result[0] = asyncio.run(_alive_brokers(bootstrap, timeout_s)) > 0

    worker = threading.Thread(target=probe, name="kafka-ready-probe", daemon=True)
    worker.start()
    worker.join(timeout_s * 3)
    return result[0]


# Strong refs on purpose: a running broker must not be garbage-collected into an orphan JVM.
_RUNNING: set[ApacheKafkaBroker] = set()


@atexit.register
def _kill_leftovers() -> None:
    # Never leave an orphan JVM holding ports after the interpreter (or a test run) exits.
    for broker in list(_RUNNING):
        with contextlib.suppress(Exception):
            broker.stop(timeout=10)


class ApacheKafkaBroker(LocalServer):
    """One KRaft node (broker + controller) on 127.0.0.1, data kept in ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        controller_port: int | None = None,
        *,
        cache_dir: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.cache_dir = cache_dir
        # Ports are fixed for the lifetime of this object (and of the data dir) so clients'
        # bootstrap address and the formatted quorum stay valid across restarts.
        self.port, self.controller_port = choose_ports(self.data_dir, port, controller_port)
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._libs: Path | None = None
        self._cds_dump: Path | None = None  # archive this JVM writes when it exits
        self.last_start_seconds: float | None = None

    # -- public API ---------------------------------------------------------------------

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path:
        return self.data_dir / _BROKER_LOG

    @property
    def properties_path(self) -> Path:
        return self.data_dir / "server.properties"

    def start(self, timeout: float = 90) -> None:
        """Format (first time only), launch the JVM and block until the broker is ready."""
        if self.is_running:
            return
        started = time.monotonic()
        deadline = started + timeout
        libs = self._libs = resolve_jars(self.cache_dir)
        self._write_config()
        if not self.is_formatted:
            self._format(libs, deadline)
        self._launch(libs)
        self._wait_ready(deadline)
        self.last_start_seconds = time.monotonic() - started
        log.info("Kafka ready at %s in %.1fs", self.bootstrap_servers, self.last_start_seconds)

    def stop(self, timeout: float = 30) -> None:
        """Graceful SIGTERM (clean shutdown, flushed logs); SIGKILL if it takes too long."""
        proc = self._process
        if proc is not None and proc.poll() is None:
            returncode = stop_process(proc, sig=signal.SIGTERM, timeout=timeout)
            # stop_process SIGKILLs only a JVM that outlived ``timeout``: its CDS dump is partial.
            if returncode != -signal.SIGKILL:
                self._publish_cds_dump()
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL, no shutdown hooks: simulates a crash (next start runs log recovery)."""
        proc = self._process
        if proc is not None and proc.poll() is None:
            stop_process(proc, sig=signal.SIGKILL)
        self._cleanup()

    def restart(self, timeout: float = 90) -> None:
        self.stop()
        self.start(timeout)

    # -- steps --------------------------------------------------------------------------

    @property
    def is_formatted(self) -> bool:
        return (self.data_dir / "logs" / "meta.properties").is_file()

    def _write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        save_ports(self.data_dir, self.port, self.controller_port)
        self.properties_path.write_text(
            server_properties(self.data_dir, self.port, self.controller_port)
        )

    def _cds_flags(self, libs: Path, java: str, *, may_dump: bool) -> list[str]:
        """Map the shared archive if there is one, else (server only) dump one at exit."""
        archive = cds_archive(libs, java)
        if archive is None:
            return []
        if checked_archive(java, archive, libs):
            return [f"-XX:SharedArchiveFile={archive}", *CDS_QUIET]
        if not may_dump:
            return []
        drop_stale_dumps(archive)
        # A private temp name: parallel brokers must not write the same file.
        self._cds_dump = archive.with_name(f"{archive.name}.{uuid.uuid4().hex[:12]}.tmp")
        return [f"-XX:ArchiveClassesAtExit={self._cds_dump}", *CDS_QUIET]

    def _publish_cds_dump(self) -> None:
        dumped, self._cds_dump = self._cds_dump, None
        if dumped is not None and self._libs is not None:
            with contextlib.suppress(OSError):
                publish_archive(java_binary(), dumped, self._libs)

    def _java_cmd(
        self, libs: Path, main_class: str, *args: str, may_dump_cds: bool = False
    ) -> list[str]:
        log4j = log4j2_config_path(self.cache_dir)
        java = java_binary()
        return [
            java,
            *JVM_OPTS,
            *self._cds_flags(libs, java, may_dump=may_dump_cds),
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Dkafka.logs.dir={self.data_dir}",
            "-cp",
            f"{libs}/*",
            main_class,
            *args,
        ]

    def _format(self, libs: Path, deadline: float) -> None:
        # --standalone: a single-voter dynamic quorum, as the Kafka 4 quickstart does.
        cmd = self._java_cmd(
            libs,
            STORAGE_TOOL_CLASS,
            "format",
            "--config",
            str(self.properties_path),
            "--cluster-id",
            _new_cluster_id(),
            "--standalone",
        )
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                cwd=self.data_dir,  # where a JVM crash report (hs_err_pid*.log) would land
                timeout=max(1.0, deadline - time.monotonic()),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise KafkaHarnessError(f"formatting {self.data_dir} timed out") from exc
        if proc.returncode != 0:
            raise KafkaHarnessError(
                f"kafka-storage format failed (exit {proc.returncode}):\n"
                f"{tail_lines(proc.stdout + proc.stderr)}"
            )

    def _launch(self, libs: Path) -> None:
        self._log_offset = log_size(self.log_path)
        with self.log_path.open("ab") as handle:
            handle.write(f"==== start {time.strftime('%Y-%m-%dT%H:%M:%S')} ====\n".encode())
        # Own session: a Ctrl-C in the terminal reaches us, and we stop it cleanly.
        self._process = start_process(
            self._java_cmd(libs, KAFKA_MAIN_CLASS, str(self.properties_path), may_dump_cds=True),
            self.log_path,
            cwd=self.data_dir,
        )
        _RUNNING.add(self)

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            proc = self._process
            if proc is None or proc.poll() is not None:
                code = None if proc is None else proc.returncode
                self._cleanup()
                raise KafkaHarnessError(
                    f"Kafka exited early (exit {code}); log tail:\n{self.log_tail()}"
                )
            # Cheap port check first: no aiokafka client while the JVM is still booting.
            if is_listening("127.0.0.1", self.port, timeout=0.2) and _probe_ready(
                self.bootstrap_servers
            ):
                return
            time.sleep(0.1)
        self.kill()
        raise KafkaHarnessError(
            f"Kafka not ready at {self.bootstrap_servers} before timeout; log tail:\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        """Last lines this run wrote to ``broker.log``."""
        try:
            return tail_lines(read_log_from(self.log_path, self._log_offset), lines)
        except OSError:
            return "(no broker log)"

    def _cleanup(self) -> None:
        if self._cds_dump is not None:  # not a graceful exit: the dump may be partial
            self._cds_dump.unlink(missing_ok=True)
            self._cds_dump = None
        _RUNNING.discard(self)


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """``python -m frugalflow.infra.apache_kafka [--data-dir D] [--port P] [resolve|run]``."""
    parser = argparse.ArgumentParser(
        prog="python -m frugalflow.infra.apache_kafka", description=__doc__
    )
    parser.add_argument("command", nargs="?", choices=("resolve", "run"), default="run")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: <cache>/data")
    parser.add_argument("--port", type=int, default=None, help="PLAINTEXT port (default: free)")
    parser.add_argument("--controller-port", type=int, default=None)
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"default: ${CACHE_ENV}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # probe noise while booting

    try:
        if args.command == "resolve":
            print(resolve_jars(args.cache_dir))
            return 0
        data_dir = args.data_dir or (args.cache_dir or default_cache_dir()) / "data"
        broker = ApacheKafkaBroker(
            data_dir, args.port, args.controller_port, cache_dir=args.cache_dir
        )
        signal.signal(signal.SIGTERM, _raise_interrupt)  # `kill <pid>` stops the JVM too
        broker.start()
    except KafkaHarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    print(f"Kafka {broker.bootstrap_servers} (data: {broker.data_dir}); Ctrl-C to stop", flush=True)
    try:
        while broker.is_running:
            time.sleep(0.5)
        print(f"Kafka exited unexpectedly; log tail:\n{broker.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping Kafka...", flush=True)
        return 0
    finally:
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
