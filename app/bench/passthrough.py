"""The raw ceiling: a plain aiokafka consumer → producer, no processing, as its own process.

``python -m frugalflow.bench.passthrough BOOTSTRAP SOURCE SINK COUNT`` copies ``COUNT`` records
(key and value) from SOURCE (read from the beginning, every partition, no group) to SINK
and exits. It prints ``ready`` once its consumer is assigned, so the bench starts its
clock on the same footing as for the worker. A separate process, like the worker, so the
bench's own publisher and reader do not share its event loop; and on the worker's kind of
loop (``FRUGALFLOW_EVENT_LOOP``).
"""

from __future__ import annotations

import asyncio
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from frugalflow.event_loop import use_event_loop
from frugalflow.settings import load_settings


async def passthrough(bootstrap: str, source: str, sink: str, count: int) -> int:
    consumer = AIOKafkaConsumer(
        source, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest", fetch_max_wait_ms=50,
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        batches = await consumer.getmany(timeout_ms=100)  # assigned before "ready"
        print("ready", flush=True)
        moved = 0
        while True:
            for messages in batches.values():
                for message in messages:
                    await producer.send(sink, key=message.key, value=message.value)
                    moved += 1
            if moved >= count:
                break
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
        await producer.flush()
        return moved
    finally:
        await producer.stop()
        await consumer.stop()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or not args[3].isdigit():
        print(
            "usage: python -m frugalflow.bench.passthrough BOOTSTRAP SOURCE SINK COUNT",
            file=sys.stderr,
        )
        return 2
    bootstrap, source, sink, count = args[0], args[1], args[2], int(args[3])
    use_event_loop(load_settings().event_loop)  # the worker's loop, so the ceiling is comparable
    asyncio.run(passthrough(bootstrap, source, sink, count))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
