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

from __future__ import annotations

import argparse
import asyncio
import atexit
import base64
import contextlib
import fcntl
import hashlib
import importlib.resources
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Final

from aiokafka.admin import AIOKafkaAdminClient

from frugalflow.infra.process import (
    LocalServer,
    free_port,
    is_listening,
    log_size,
    read_log_from,
    start_process,
    stop_process,
)

log = logging.getLogger(__name__)

KAFKA_MAIN_CLASS: Final = "kafka.Kafka"  # behind bin/kafka-server-start.sh
STORAGE_TOOL_CLASS: Final = "kafka.tools.StorageTool"  # behind bin/kafka-storage.sh
CACHE_ENV: Final = "FRUGALFLOW_KAFKA_CACHE"
CDS_ENV: Final = "FRUGALFLOW_KAFKA_CDS"
NODE_ID: Final = 1

_POM_RESOURCE: Final = "kafka_jars/pom.xml"
_MARKER_NAME: Final = "resolved.json"
_LOG4J2_NAME: Final = "log4j2.xml"
_PORTS_FILE: Final = "broker-ports.json"
_BROKER_LOG: Final = "broker.log"
_JVM_OPTS: Final = (
    "-Xms256m",
    "-Xmx512m",
    # Serial GC + C1-only JIT: a short-lived test broker on 2 cores starts noticeably faster
    # and uses fewer threads; peak throughput does not matter here.
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
# The JVM logs every class it cannot archive as a warning; none of that is actionable here.
_CDS_QUIET: Final = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")

# Quiet logging: everything at WARN, except the one INFO line that says the server is up.
# shutdownHook="disable": log4j must not stop itself while Kafka is still logging its shutdown.
_LOG4J2_XML: Final = """\
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN" shutdownHook="disable">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Root level="WARN">
      <AppenderRef ref="stdout"/>
    </Root>
  </Loggers>
</Configuration>
"""


class KafkaHarnessError(RuntimeError):
    """The Kafka jars could not be resolved or the broker did not start/stop as expected."""


# --------------------------------------------------------------------------------------------
# resolve
# --------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """``$FRUGALFLOW_KAFKA_CACHE`` or ``~/.cache/frugalflow/kafka``."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "frugalflow" / "kafka"


def _packaged_pom() -> bytes:
    # Package data, so it also works from an installed wheel (no path into the source tree).
    return importlib.resources.files("frugalflow.infra").joinpath(_POM_RESOURCE).read_bytes()


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _cache_is_complete(cache: Path, pom_hash: str) -> bool:
    """True when the marker matches this pom and every jar it lists is still on disk."""
    try:
        marker = json.loads((cache / _MARKER_NAME).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("pom_sha256") != pom_hash:
        return False
    jars = marker.get("jars")
    if not isinstance(jars, list) or not jars:
        return False
    libs = cache / "libs"
    return all(isinstance(name, str) and (libs / name).is_file() for name in jars)


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    # Parallel test workers may resolve at the same time; only one of them runs mvn.
    with (cache / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_maven(pom: Path, output_dir: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaHarnessError("`mvn` not found on PATH; Maven is needed once to fetch Kafka")
    cmd = [
        mvn,
        "-B",
        "-q",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={output_dir}",
        "-DincludeScope=runtime",
    ]
    log.info("resolving Kafka jars: %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise KafkaHarnessError(
            f"mvn failed (exit {proc.returncode}) resolving Kafka jars:\n"
            f"{_tail(proc.stdout + proc.stderr)}"
        )


def _write_if_changed(path: Path, content: str) -> None:
    if not path.is_file() or path.read_text() != content:
        path.write_text(content)


def resolve_jars(cache_dir: Path | None = None) -> Path:
    """Return a directory holding the Kafka broker jars, running Maven only on a cache miss."""
    cache = (cache_dir or default_cache_dir()).expanduser().resolve()
    cache.mkdir(parents=True, exist_ok=True)
    pom_bytes = _packaged_pom()
    pom_hash = hashlib.sha256(pom_bytes).hexdigest()
    libs = cache / "libs"
    with _locked(cache):
        _write_if_changed(cache / _LOG4J2_NAME, _LOG4J2_XML)
        if _cache_is_complete(cache, pom_hash):
            return libs
        pom = cache / "pom.xml"
        pom.write_bytes(pom_bytes)
        # Resolve into a scratch dir and swap it in, so a failed or interrupted run never
        # leaves a half-filled (or mixed-version) classpath behind.
        staging = cache / "libs.staging"
        shutil.rmtree(staging, ignore_errors=True)
        _run_maven(pom, staging)
        jars = sorted(p.name for p in staging.glob("*.jar"))
        if not jars:
            raise KafkaHarnessError(f"mvn succeeded but copied no jars into {staging}")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        marker = {"pom_sha256": pom_hash, "jars": jars, "resolved_at": time.time()}
        (cache / _MARKER_NAME).write_text(json.dumps(marker, indent=2))
    return libs


def log4j2_config_path(cache_dir: Path | None = None) -> Path:
    """The quiet log4j2 config that :func:`resolve_jars` writes next to the jars."""
    return (cache_dir or default_cache_dir()).expanduser().resolve() / _LOG4J2_NAME


# --------------------------------------------------------------------------------------------
# broker
# --------------------------------------------------------------------------------------------


def java_binary() -> str:
    """``$JAVA_HOME/bin/java`` when set, else ``java`` from PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise KafkaHarnessError("no `java` found (set JAVA_HOME or put java 17+ on PATH)")
    return found


def _new_cluster_id(random_bytes: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """Same format as `kafka-storage.sh random-uuid`: 16 random bytes, url-safe base64, no
    pad. Like Kafka's ``Uuid.randomUuid``, never one starting with "-": the storage tool's
    argument parser would read it as an option (1 start in 64 failed before this)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(random_bytes()).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _server_properties(data_dir: Path, port: int, controller_port: int) -> str:
    controller = f"127.0.0.1:{controller_port}"
    props = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.bootstrap.servers": controller,
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://{controller}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir / "logs"),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Internal topics default to 50 partitions; creating them on first group/transaction
        # use costs seconds on a tiny broker, so keep them small.
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.num.partitions": "4",
        # Sized for 2 cores and a 512 MB heap (the cleaner's dedupe buffer defaults to 128 MB).
        "num.network.threads": "2",
        "num.io.threads": "4",
        "background.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        # After a crash (SIGKILL) the controller refuses the node's new registration until the
        # old session expires: 9 s by default. 4 s with 0.5 s heartbeats keeps crash-restart
        # quick and still tolerates multi-second stalls of a busy test machine.
        "broker.session.timeout.ms": "4000",
        "broker.heartbeat.interval.ms": "500",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


def _load_ports(data_dir: Path) -> tuple[int, int] | None:
    try:
        saved = json.loads((data_dir / _PORTS_FILE).read_text())
        return int(saved["port"]), int(saved["controller_port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _choose_ports(data_dir: Path, port: int | None, controller_port: int | None) -> tuple[int, int]:
    saved = _load_ports(data_dir)
    if saved is not None:
        saved_port, saved_controller = saved
        # The controller endpoint is baked into the formatted quorum: it must not move.
        if controller_port is not None and controller_port != saved_controller:
            raise KafkaHarnessError(
                f"{data_dir} was formatted with controller port {saved_controller}, "
                f"not {controller_port}"
            )
        return (port or saved_port), saved_controller
    chosen_port = port or free_port()
    chosen_controller = controller_port or free_port()
    while chosen_controller == chosen_port:
        chosen_controller = free_port()
    return chosen_port, chosen_controller


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


def _cds_archive(libs: Path, java: str) -> Path | None:
    """Where the AppCDS archive for this exact JVM + classpath lives; None when disabled."""
    if os.environ.get(CDS_ENV, "1") == "0":
        return None
    # An archive only fits the JVM build and the jar list it was dumped with: key on both.
    real_java = Path(java).resolve()
    stat = real_java.stat()
    jars = sorted(p.name for p in libs.glob("*.jar"))
    identity = json.dumps([str(real_java), stat.st_size, stat.st_mtime_ns, jars])
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return libs.parent / f"kafka-{key}.jsa"


def _archive_is_usable(java: str, archive: Path, libs: Path) -> bool:
    # A truncated archive makes the JVM crash (SIGBUS) instead of ignoring it: check it first.
    cmd = [
        java,
        f"-XX:SharedArchiveFile={archive}",
        *_CDS_QUIET,
        "-XX:-CreateCoredumpOnCrash",
        "-XX:ErrorFile=/dev/null",
        "-cp",
        f"{libs}/*",
        "-version",
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


_ARCHIVES_CHECKED: dict[tuple[str, int, int], bool] = {}


def _checked_archive(java: str, archive: Path, libs: Path) -> bool:
    """True if ``archive`` exists and loads; a damaged one is deleted (dumped again later).

    Checked once per process per file version, so the ~70 ms probe is not paid on every start.
    """
    try:
        stat = archive.stat()
    except OSError:
        return False
    version = (str(archive), stat.st_mtime_ns, stat.st_size)
    if version not in _ARCHIVES_CHECKED:
        _ARCHIVES_CHECKED[version] = _archive_is_usable(java, archive, libs)
        if not _ARCHIVES_CHECKED[version]:
            log.warning("dropping unusable class-data archive %s", archive)
            archive.unlink(missing_ok=True)
    return _ARCHIVES_CHECKED[version]


def _drop_stale_dumps(archive: Path, max_age_s: float = 600) -> None:
    # The JVM writes its dump only while exiting (a few seconds), so an old temp file is the
    # leftover of a harness that died before publishing it: ~50 MB each, don't let them pile up.
    for leftover in archive.parent.glob(f"{archive.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - leftover.stat().st_mtime > max_age_s:
                leftover.unlink()


def _publish_archive(java: str, dumped: Path, libs: Path) -> None:
    """Move a freshly dumped archive into place if the JVM accepts it; else drop it."""
    archive = _cds_archive(libs, java)
    if archive is not None and dumped.is_file() and _archive_is_usable(java, dumped, libs):
        os.replace(dumped, archive)  # atomic: concurrent JVMs see the old or the new file
    dumped.unlink(missing_ok=True)


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
        self.port, self.controller_port = _choose_ports(self.data_dir, port, controller_port)
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
        ports = {"port": self.port, "controller_port": self.controller_port}
        (self.data_dir / _PORTS_FILE).write_text(json.dumps(ports))
        self.properties_path.write_text(
            _server_properties(self.data_dir, self.port, self.controller_port)
        )

    def _cds_flags(self, libs: Path, java: str, *, may_dump: bool) -> list[str]:
        """Map the shared archive if there is one, else (server only) dump one at exit."""
        archive = _cds_archive(libs, java)
        if archive is None:
            return []
        if _checked_archive(java, archive, libs):
            return [f"-XX:SharedArchiveFile={archive}", *_CDS_QUIET]
        if not may_dump:
            return []
        _drop_stale_dumps(archive)
        # A private temp name: parallel brokers must not write the same file.
        self._cds_dump = archive.with_name(f"{archive.name}.{uuid.uuid4().hex[:12]}.tmp")
        return [f"-XX:ArchiveClassesAtExit={self._cds_dump}", *_CDS_QUIET]

    def _publish_cds_dump(self) -> None:
        dumped, self._cds_dump = self._cds_dump, None
        if dumped is not None and self._libs is not None:
            with contextlib.suppress(OSError):
                _publish_archive(java_binary(), dumped, self._libs)

    def _java_cmd(
        self, libs: Path, main_class: str, *args: str, may_dump_cds: bool = False
    ) -> list[str]:
        log4j = log4j2_config_path(self.cache_dir)
        java = java_binary()
        return [
            java,
            *_JVM_OPTS,
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
                f"{_tail(proc.stdout + proc.stderr)}"
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
            return _tail(read_log_from(self.log_path, self._log_offset), lines)
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
