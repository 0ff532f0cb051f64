"""The Kafka broker's jars: fetched once from Maven Central, then served from a local cache.

Why a module of its own: resolving the classpath is the one step that needs Maven and the
network, and it is shared by every broker start (and by ``python -m
frugalflow.infra.apache_kafka resolve``). :func:`resolve_jars` runs Maven once on the packaged
``kafka_jars/pom.xml`` to copy ``org.apache.kafka:kafka_2.13`` and its runtime dependencies
(plus a log4j2 binding) into ``~/.cache/frugalflow/kafka`` or ``$FRUGALFLOW_KAFKA_CACHE``. A
marker keyed by the pom's SHA-256 makes every later call a cheap cache hit that never runs
``mvn``. The quiet log4j2 config the broker runs with is written next to the jars.

Also home of :class:`KafkaHarnessError`, the one error type of the Kafka harness modules.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.resources
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

CACHE_ENV: Final = "FRUGALFLOW_KAFKA_CACHE"

_POM_RESOURCE: Final = "kafka_jars/pom.xml"
_MARKER_NAME: Final = "resolved.json"
_LOG4J2_NAME: Final = "log4j2.xml"

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


def tail_lines(text: str, lines: int = 40) -> str:
    """The last ``lines`` lines of a tool's output, for an error message."""
    return "\n".join(text.strip().splitlines()[-lines:])


def default_cache_dir() -> Path:
    """``$FRUGALFLOW_KAFKA_CACHE`` or ``~/.cache/frugalflow/kafka``."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "frugalflow" / "kafka"


def _packaged_pom() -> bytes:
    # Package data, so it also works from an installed wheel (no path into the source tree).
    return importlib.resources.files("frugalflow.infra").joinpath(_POM_RESOURCE).read_bytes()


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
            f"{tail_lines(proc.stdout + proc.stderr)}"
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
