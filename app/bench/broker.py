"""``frugalflow bench … --broker``: which Kafka a bench runs on.

* ``auto`` (default): the broker of ``KAFKA_BOOTSTRAP_SERVERS`` if set, else Tansu, the
  in-memory broker of ``make demo``;
* ``tansu``: Tansu even when ``KAFKA_BOOTSTRAP_SERVERS`` is set;
* ``apache-kafka``: a real Apache Kafka started for this run from the official jars
  (``frugalflow.infra.apache_kafka``: resolved once from Maven Central, then cached), with its data
  in the run's work dir, stopped at the end.

Why a choice: Tansu starts in milliseconds but keeps its logs in memory and slows as they
grow, so a long run at a steady rate (``bench memory``) measures Tansu falling behind rather
than the worker. ``apache-kafka`` gives the figures of a production broker in one command.

``bench_stack`` reads the broker from the environment (as ``LocalStack`` does), so the
choice is made by setting or unsetting ``KAFKA_BOOTSTRAP_SERVERS`` for the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

CHOICES = ("auto", "tansu", "apache-kafka")
_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS")


@contextlib.contextmanager
def bench_broker(choice: str, workdir: Path) -> Iterator[str | None]:
    """Sets the run's broker up; yields how to describe it in the report (None: as usual)."""
    from frugalflow.bench.runner import scoped_environ  # the CLI imports CHOICES: keep that light

    if choice == "auto":
        yield None
    elif choice == "tansu":
        # Unset, not blank: the worker and the emulator refuse a blank bootstrap address.
        with scoped_environ(dict.fromkeys(_VARIABLES)):
            yield None
    elif choice == "apache-kafka":
        from frugalflow.infra.apache_kafka import ApacheKafkaBroker

        broker = ApacheKafkaBroker(workdir / "kafka")
        broker.start()
        try:
            with scoped_environ(dict.fromkeys(_VARIABLES, broker.bootstrap_servers)):
                yield f"apache-kafka (jars, started for this run at {broker.bootstrap_servers})"
        finally:
            broker.stop()
    else:
        raise ValueError(f"unknown broker {choice!r}; expected one of {', '.join(CHOICES)}")
