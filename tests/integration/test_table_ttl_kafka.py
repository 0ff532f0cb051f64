"""Table TTLs end to end (a worker process, Apache Kafka, the emulator): a repeat inside
the dedupe window is dead-lettered; once the window and the batch membership TTL have
passed, the next events of the partition delete both entries (tombstones in the tables'
changelogs), even across a restart (the index is rebuilt from the recovered tables),
and the same request id is then accepted again as a new request."""

from __future__ import annotations

import json
import time
from typing import Any

from aiokafka import AIOKafkaConsumer

from frugalflow.intake.agent import dedupe_key
from frugalflow.intake.validate import Reason
from tests.integration.harness import Deployment, request

DEDUPE_TTL_S = 6.0
MEMBERSHIP_TTL_S = 4.0
TENANT = "tenant-ttl"
DUPLICATE = Reason.DUPLICATE_REQUEST.value


async def test_expired_entries_are_deleted_and_a_repeat_inside_the_window_is_not_served(
    deployment: Deployment,
) -> None:
    run = deployment.prefix.rstrip(".")
    deployment.extra_env.update({
        "FRUGALFLOW_DEDUPE_TTL_S": f"{DEDUPE_TTL_S:g}",
        "FRUGALFLOW_BATCH_MEMBERSHIP_TTL_S": f"{MEMBERSHIP_TTL_S:g}",
    })  # fmt: skip
    rid = f"{run}-a"

    def batch(request_id: str, question: str) -> tuple[bytes, bytes]:
        return request(request_id, TENANT, priority="batch", content=question)

    w1 = deployment.start_worker("w1")
    # Two records, one request id, written a moment apart: the second is a duplicate.
    await deployment.publish([batch(rid, "Question one?"), batch(rid, "Question two?")])
    [answer] = await deployment.read("llm.responses", until=1)
    assert (answer["request_id"], answer["path"], answer["status"]) == (rid, "batch", "ok")
    [letter] = await deployment.read("llm.dead-letter", until=1)
    assert (letter["reason"], letter["offset"]) == (DUPLICATE, 1)
    done_at = max(r.timestamp for r in await _records(deployment, "llm.batches", _is_done))
    first_at = min(r.timestamp for r in await _records(deployment, "llm.requests"))

    w1.stop()
    deployment.start_worker("w2")  # only the rebuilt index knows the entries of "a"
    # Records written after both TTLs have passed (record time decides, not arrival).
    wait_until = max(first_at + DEDUPE_TTL_S, done_at + MEMBERSHIP_TTL_S) + 1
    time.sleep(max(0.0, wait_until - time.time()))
    await deployment.publish([batch(f"{run}-b", "Question three?"), batch(rid, "Question four?")])
    answers = await deployment.read("llm.responses", until=3)
    assert sorted(a["request_id"] for a in answers) == sorted([rid, rid, f"{run}-b"])
    assert all(a["status"] == "ok" for a in answers)
    # Only the repeat inside the window (offset 1) was refused, whatever was redelivered.
    letters = await deployment.read("llm.dead-letter", until=1)
    assert {(d["reason"], d["offset"]) for d in letters} == {(DUPLICATE, 1)}

    key = dedupe_key(TENANT, rid)
    seen = await _history(deployment, "intake-seen", key)
    assert [value is None for value in seen] == [False, True, False]  # set, expired, set again
    members = await _history(deployment, "batches-requests", key)
    expired = members.index(None)
    assert str(members[expired - 1]).startswith("done@")  # only a finished member expired
    assert all(value is not None for value in members[expired + 1 :])


class _Record:
    def __init__(self, key: Any, value: Any, timestamp: float) -> None:
        self.key, self.value, self.timestamp = key, value, timestamp


def _is_done(record: _Record) -> bool:
    return record.value is not None and record.value.get("state") == "done"


async def _records(deployment: Deployment, topic: str, keep: Any = None) -> list[_Record]:
    """Every record of a topic (JSON-decoded; tombstones as None), at least one kept."""
    consumer = AIOKafkaConsumer(
        topic if topic.startswith(deployment.prefix) else deployment.topic(topic),
        bootstrap_servers=deployment.bootstrap, group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    out: list[_Record] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            fetched = [m for messages in batches.values() for m in messages]
            for m in fetched:
                key = _decode(m.key)
                value = None if m.value is None else _decode(m.value)
                record = _Record(key, value, m.timestamp / 1000)
                if keep is None or keep(record):
                    out.append(record)
            if out and not fetched:
                break
    finally:
        await consumer.stop()
    assert out, f"nothing matching on {topic}"
    return out


async def _history(deployment: Deployment, table: str, key: str) -> list[Any]:
    """The values written for ``key`` in a table's changelog, in order (None: deleted)."""
    topic = f"{deployment.prefix}frugalflow-{table}-changelog"
    return [r.value for r in await _records(deployment, topic, lambda r: r.key == key)]


def _decode(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode()
