"""Helpers of the reliability suite (the deployment itself is ``tests.integration.harness``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from frugalflow.providers.ids import safe_custom_id
from tests.integration.harness import Deployment, EmulatorFaults

# Long runs: ``make soak`` only, and past the suite's default 300 s timeout.
SOAK = (pytest.mark.soak, pytest.mark.timeout(1800))

ANTHROPIC_BATCH_CREATE = "POST /v1/messages/batches"
OPENAI_BATCH_CREATE = "POST /v1/batches"
FINAL_STATUSES = frozenset({"ok", "fallback", "rejected", "error"})


class EmulatorControl(EmulatorFaults):
    """The session's shared emulator: fault knobs (put back by ``restore``) and the capture."""

    async def restore(self) -> None:
        await super().restore()
        await self._client.put("/_emulator/requests", json={"enabled": False})

    async def start_capture(self) -> None:
        response = await self._client.put("/_emulator/requests", json={"enabled": True})
        assert response.status_code == 200, response.text

    async def captured(self) -> list[dict[str, Any]]:
        """Every request body received since ``start_capture`` (fails if any was dropped)."""
        body = (await self._client.get("/_emulator/requests")).json()
        assert body["dropped"] == 0, "the emulator's capture overflowed"
        requests: list[dict[str, Any]] = body["requests"]
        return requests


def batch_submissions(captured: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """``(provider, custom ids)`` of every batch the emulator was asked to create."""
    out: list[tuple[str, list[str]]] = []
    for entry in captured:
        if entry["endpoint"] == ANTHROPIC_BATCH_CREATE:
            out.append(("anthropic", [r["custom_id"] for r in entry["body"]["requests"]]))
        elif entry["endpoint"] == OPENAI_BATCH_CREATE and entry.get("input_file"):
            lines = entry["input_file"].splitlines()
            out.append(("openai", [json.loads(line)["custom_id"] for line in lines if line]))
    return out


def submitted_request_ids(captured: list[dict[str, Any]], request_ids: set[str]) -> Counter[str]:
    """How many times each of ``request_ids`` was sent to a provider's Batch API."""
    by_custom_id = {safe_custom_id(r): r for r in request_ids}
    return Counter(
        by_custom_id[custom_id]
        for _, custom_ids in batch_submissions(captured)
        for custom_id in custom_ids
        if custom_id in by_custom_id
    )


async def answers_for(
    deployment: Deployment, request_ids: set[str], timeout: float = 120
) -> list[dict[str, Any]]:
    """Every answer on ``llm.responses`` once each of ``request_ids`` has one (or at the
    timeout), redeliveries included: counting records would stop early on a duplicate."""
    consumer = AIOKafkaConsumer(
        deployment.topic("llm.responses"), bootstrap_servers=deployment.bootstrap,
        group_id=None, auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    out: list[dict[str, Any]] = []
    missing = set(request_ids)
    deadline = time.monotonic() + timeout
    try:
        while missing and time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=300)).values():
                for m in messages:
                    answer = json.loads(m.value or b"{}")
                    out.append(answer)
                    missing.discard(answer.get("request_id"))
        # Late duplicates of what was just answered still count: read what is there now.
        for messages in (await consumer.getmany(timeout_ms=1000)).values():
            out.extend(json.loads(m.value or b"{}") for m in messages)
    finally:
        await consumer.stop()
    return out


def group_by_request(answers: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for answer in answers:
        grouped[answer["request_id"]].append(answer)
    return dict(grouped)


def explain(answer: dict[str, Any]) -> str:
    """``ok``, ``fallback:<reason>`` or ``<status>:<error code>``: what a caller would see."""
    if answer["status"] == "ok":
        return "ok"
    if answer["status"] == "fallback":
        return f"fallback:{answer.get('fallback_reason') or 'unspecified'}"
    error = answer.get("error") or {}
    return f"{answer['status']}:{error.get('code')}"


class Publisher:
    """One long-lived producer, for tests that publish while something else happens."""

    def __init__(self, deployment: Deployment) -> None:
        self._deployment = deployment
        self._producer = AIOKafkaProducer(
            bootstrap_servers=deployment.bootstrap, max_request_size=4 << 20
        )

    async def __aenter__(self) -> Publisher:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def send(self, key: bytes | None, value: bytes | None) -> tuple[int, int]:
        """Publish and wait for the broker's ack; returns ``(partition, offset)``."""
        meta = await self._producer.send_and_wait(
            self._deployment.topic("llm.requests"), key=key, value=value
        )
        return meta.partition, meta.offset


async def every_record(bootstrap: str, prefix: str) -> dict[str, list[tuple[bytes, bytes]]]:
    """``topic -> [(key, value)]`` for every topic whose name starts with ``prefix``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
    finally:
        await admin.close()
    return await read_to_end(bootstrap, topics)


async def read_to_end(bootstrap: str, topics: list[str]) -> dict[str, list[tuple[bytes, bytes]]]:
    """``topic -> [(key, value)]``: every record the topics hold now (a missing part is b"")."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]
    ]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        max_partition_fetch_bytes=8 << 20, fetch_max_bytes=16 << 20,
    )  # fmt: skip
    await consumer.start()
    out: dict[str, list[tuple[bytes, bytes]]] = {t: [] for t in topics}
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp, end in ends.items() if end > 0}
        deadline = time.monotonic() + 60
        while remaining and time.monotonic() < deadline:
            for tp, messages in (await consumer.getmany(timeout_ms=500)).items():
                out[tp.topic].extend((m.key or b"", m.value or b"") for m in messages)
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        assert not remaining, f"could not read to the end of {sorted(map(str, remaining))}"
    finally:
        await consumer.stop()
    return out


async def read_json(deployment: Deployment, name: str) -> list[dict[str, Any]]:
    """Every record of one of the deployment's JSON topics, as it stands now."""
    topic = deployment.topic(name)
    records = (await read_to_end(deployment.bootstrap, [topic]))[topic]
    return [json.loads(value) for _, value in records]


async def database_text(dsn: str) -> dict[str, str]:
    """``schema.table -> every row as text``, for every table outside the system schemas."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        out = {}
        for t in tables:
            name = f'"{t["table_schema"]}"."{t["table_name"]}"'
            rows = await conn.fetch(f"SELECT t::text AS row FROM {name} t")
            out[f"{t['table_schema']}.{t['table_name']}"] = "\n".join(r["row"] for r in rows)
        return out
    finally:
        await conn.close()


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout:.0f} s: {what}")
        await asyncio.sleep(0.3)
