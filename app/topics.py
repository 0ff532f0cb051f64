"""Topic definitions (``topics/topics.yaml``) and ``frugalflow topics apply``.

Apply is idempotent: missing topics are created, existing ones are compared with their
definition and every difference is reported as drift. Drift is never "fixed" silently:
partitions cannot shrink and growing them re-homes tenants, so an operator decides.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from frugalflow.settings import Settings

EXIT_OK = 0
EXIT_DRIFT = 3  # topics exist but differ from their definitions

_DEFAULT_FILE = Path(__file__).resolve().parent.parent / "topics" / "topics.yaml"


@dataclass(frozen=True)
class TopicSpec:
    name: str  # contract name, without prefix
    full_name: str  # with the deployment's prefix
    scope: str
    partitions: int
    replication: int
    key: str
    value: str
    config: dict[str, str] = field(default_factory=dict)


class TopicDefinitionError(ValueError):
    """topics.yaml is malformed."""


def topics_file() -> Path:
    return Path(os.environ.get("FRUGALFLOW_TOPICS_FILE", _DEFAULT_FILE))


def load_topics(settings: Settings, path: Path | None = None) -> list[TopicSpec]:
    path = path or topics_file()
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise TopicDefinitionError(f"cannot read topic definitions {path}: {exc}") from exc
    specs = []
    for entry in raw.get("topics", []):
        try:
            specs.append(
                TopicSpec(
                    name=entry["name"],
                    full_name=settings.topic(entry["name"]),
                    scope=entry.get("scope", "internal"),
                    partitions=_count(entry.get("partitions", "shared"), settings.partitions),
                    replication=_count(
                        entry.get("replication", "shared"), settings.replication_factor
                    ),
                    key=str(entry.get("key", "")),
                    value=str(entry.get("value", "")),
                    config={str(k): str(v) for k, v in (entry.get("config") or {}).items()},
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TopicDefinitionError(f"{path}: bad topic entry {entry!r}: {exc}") from exc
    return specs


def _count(value: Any, shared: int) -> int:
    if value == "shared":
        return shared
    if isinstance(value, int) and value >= 1:
        return value
    raise ValueError(f"expected 'shared' or a positive integer, got {value!r}")


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)  # one readable line per difference

    @property
    def exit_code(self) -> int:
        return EXIT_DRIFT if self.drift else EXIT_OK

    def lines(self) -> list[str]:
        out = [f"created   {name}" for name in self.created]
        out += [f"ok        {name}" for name in self.unchanged]
        out += [f"DRIFT     {line}" for line in self.drift]
        return out


async def apply_topics(bootstrap: str, specs: list[TopicSpec]) -> ApplyReport:
    report = ApplyReport()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        for spec in specs:
            if spec.full_name in existing:
                continue
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            spec.full_name,
                            spec.partitions,
                            spec.replication,
                            topic_configs=spec.config,
                        )
                    ]
                )
                report.created.append(spec.full_name)
            except TopicAlreadyExistsError:  # created concurrently by another worker
                existing.add(spec.full_name)
        for spec in specs:
            if spec.full_name in report.created:
                continue
            problems = await _drift(admin, spec)
            if problems:
                report.drift.extend(problems)
            else:
                report.unchanged.append(spec.full_name)
    finally:
        await admin.close()
    return report


async def _drift(admin: AIOKafkaAdminClient, spec: TopicSpec) -> list[str]:
    problems: list[str] = []
    described = await admin.describe_topics([spec.full_name])
    partitions = described[0].get("partitions", []) if described else []
    if len(partitions) != spec.partitions:
        problems.append(
            f"{spec.full_name}: has {len(partitions)} partitions, definition says "
            f"{spec.partitions} (FRUGALFLOW_PARTITIONS); all tenant topics must share one count"
        )
    replicas = {len(p.get("replicas", [])) for p in partitions}
    if partitions and replicas != {spec.replication}:
        problems.append(
            f"{spec.full_name}: replication factor {sorted(replicas)}, definition says "
            f"{spec.replication}"
        )
    actual = await _topic_config(admin, spec.full_name)
    if actual is not None:
        for key in ("cleanup.policy", "retention.ms"):
            want = spec.config.get(key)
            if want is not None and key in actual and actual[key] != want:
                problems.append(f"{spec.full_name}: {key}={actual[key]}, definition says {want}")
    return problems


async def _topic_config(admin: AIOKafkaAdminClient, name: str) -> dict[str, str] | None:
    """The topic's effective config, or None when the broker cannot describe configs."""
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    except Exception:  # e.g. a Kafka-protocol broker without DescribeConfigs
        return None
    config: dict[str, str] = {}
    for response in responses:
        for resource in response.resources:
            # (error_code, error_message, type, name, configs[(name, value, ...)])
            for entry in resource[4]:
                config[entry[0]] = entry[1]
    return config
