"""What a Kafka broker's data dir says about it: ``server.properties`` and its saved ports.

Why a module of its own: these are the broker's settings, apart from the process that runs
with them. :func:`server_properties` is the single-node KRaft configuration (broker and
controller in one JVM, on 127.0.0.1), sized for a small test machine. The chosen ports are
saved in ``<data_dir>/broker-ports.json`` because the KRaft quorum records the controller
endpoint at format time: :func:`choose_ports` makes re-opening the same data dir reuse it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from frugalflow.infra.kafka_jar_cache import KafkaHarnessError
from frugalflow.infra.process import free_port

NODE_ID: Final = 1

_PORTS_FILE: Final = "broker-ports.json"


def server_properties(data_dir: Path, port: int, controller_port: int) -> str:
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


def save_ports(data_dir: Path, port: int, controller_port: int) -> None:
    """Record the ports in ``data_dir`` for :func:`choose_ports` to find on the next open."""
    ports = {"port": port, "controller_port": controller_port}
    (data_dir / _PORTS_FILE).write_text(json.dumps(ports))


def _load_ports(data_dir: Path) -> tuple[int, int] | None:
    try:
        saved = json.loads((data_dir / _PORTS_FILE).read_text())
        return int(saved["port"]), int(saved["controller_port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def choose_ports(data_dir: Path, port: int | None, controller_port: int | None) -> tuple[int, int]:
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
