"""The JVM that runs the Kafka broker: which ``java``, its flags, and its class-data archive.

Why a module of its own: a short-lived test broker spends most of its start-up booting the
JVM, and what makes that fast is self-contained. :data:`JVM_OPTS` sizes the JVM for a small
machine. The first broker run that stops gracefully dumps an AppCDS archive of the loaded
classes next to the jars; :func:`publish_archive` validates it and swaps it in atomically, and
later JVMs map it (:func:`checked_archive`) and boot in about half the time. An archive only
fits the exact ``java`` build and jar list it was dumped with, so :func:`cds_archive` keys its
file name on both. ``FRUGALFLOW_KAFKA_CDS=0`` turns archives off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Final

from frugalflow.infra.kafka_jar_cache import KafkaHarnessError

log = logging.getLogger(__name__)

CDS_ENV: Final = "FRUGALFLOW_KAFKA_CDS"

JVM_OPTS: Final = (
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
CDS_QUIET: Final = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")


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


def cds_archive(libs: Path, java: str) -> Path | None:
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
        *CDS_QUIET,
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


def checked_archive(java: str, archive: Path, libs: Path) -> bool:
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


def drop_stale_dumps(archive: Path, max_age_s: float = 600) -> None:
    # The JVM writes its dump only while exiting (a few seconds), so an old temp file is the
    # leftover of a harness that died before publishing it: ~50 MB each, don't let them pile up.
    for leftover in archive.parent.glob(f"{archive.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - leftover.stat().st_mtime > max_age_s:
                leftover.unlink()


def publish_archive(java: str, dumped: Path, libs: Path) -> None:
    """Move a freshly dumped archive into place if the JVM accepts it; else drop it."""
    archive = cds_archive(libs, java)
    if archive is not None and dumped.is_file() and _archive_is_usable(java, dumped, libs):
        os.replace(dumped, archive)  # atomic: concurrent JVMs see the old or the new file
    dumped.unlink(missing_ok=True)
