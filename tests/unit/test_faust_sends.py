"""Table changes queued as plain records (``frugalflow.faust_sends``): the same bytes and
partition as Faust's own changelog records, and a flush still waits for them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest

from frugalflow.faust_producer import OneWaitProducerBuffer
from frugalflow.faust_sends import ChangelogRecord, LeanTable


def _app(tmp_path: Path) -> faust.App:
    return faust.App("lean-test", broker="kafka://127.0.0.1:1", store="memory://",
                     datadir=str(tmp_path), Table=LeanTable, autodiscover=False)  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "value_serializer"),
    [
        ("r\x1f4:acme\x1freq-1", {"day": "2026-12-04", "amount": "0.30", "scopes": [""]}, None),
        ("1:a:b", "0:17@1733300000.123", None),
        ("4:acme:req-9", None, "raw"),  # a delete: Faust's tombstone
    ],
)
async def test_a_change_is_queued_with_faust_s_own_bytes_and_partition(
    tmp_path: Path, key: str, value: Any, value_serializer: str | None
) -> None:
    app = _app(tmp_path)
    table = app.Table("ledger", default=None, partitions=4)
    assert isinstance(table, LeanTable)
    queued: list[Any] = []
    app.producer.buffer.put = queued.append  # type: ignore[method-assign]

    assert table._changelog(3, key, value, value_serializer) == 3

    faust_s = table.changelog_topic.as_future_message(
        key=key, value=value, partition=3, key_serializer=table.key_serializer,
        value_serializer=value_serializer or table.value_serializer,
    ).message  # fmt: skip
    [record] = queued
    assert isinstance(record, ChangelogRecord)
    assert (record.topic, record.key, record.value, record.partition) == (
        "lean-test-ledger-changelog", faust_s.key, faust_s.value, 3
    )  # fmt: skip


class _Producer:
    """Faust's producer as ``send_raw`` uses it: ``send`` appends, the broker acks later."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes | None, int | None]] = []

    async def send(self, topic: str, key: Any, value: Any, partition: Any, *_: Any) -> Any:
        await asyncio.sleep(0.001)
        self.records.append((topic, key, value, partition))
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked


async def test_a_flush_returns_once_the_queued_changes_are_handed_to_the_producer() -> None:
    producer = _Producer()
    sensors = SimpleNamespace(on_send_initiated=lambda *a: None, on_send_completed=lambda *a: None,
                              on_send_error=lambda *a: None)  # fmt: skip

    async def maybe_start_producer() -> _Producer:
        return producer

    buffer = OneWaitProducerBuffer()
    buffer.app = SimpleNamespace(  # type: ignore[assignment]
        conf=SimpleNamespace(producer_threaded=False), sensors=sensors,
        maybe_start_producer=maybe_start_producer,
    )  # fmt: skip
    await buffer.start()
    try:
        for n in range(40):
            buffer.put(ChangelogRecord("t-changelog", b"k%d" % n, b"v", n % 4))  # type: ignore[arg-type]
        assert await buffer.flush_atmost(None) == 40
        assert [r[1] for r in producer.records] == [b"k%d" % n for n in range(40)]  # in order
        assert [r[3] for r in producer.records] == [n % 4 for n in range(40)]
        assert buffer.size == 0
    finally:
        await buffer.stop()
