"""The Faust floor: what Faust's own machinery costs per request, with no FrugalFlow logic.

The raw passthrough says what Kafka and aiokafka allow; this says what a Faust worker
allows once it does, per request, only the table writes and sends that FrugalFlow's
guarantees take through Faust, and nothing else: no parsing, no policies, no provider.

``python -m frugalflow.bench.faust_floor SOURCE SINK COUNT`` runs a Faust app built as the
worker's is (``build_faust_app``: the same transport, producer, settings and event loop;
app id, data directory and port from the ``FRUGALFLOW_*`` environment). One agent reads
SOURCE one event at a time, as intake does, and for each record does ``WORK``: four
table writes (the dedupe entry, the budget reservation and its release, the batch
membership) and two sends of the record to SINK (the answer and the cost event),
as ``Pipeline.send`` does. From its first record to its COUNT-th it measures wall and CPU
time, then prints them as one JSON line and exits. The bench publishes the records before
it starts the process, so the figure is the rate at which it drains a backlog.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from frugalflow.bench import workloads
from frugalflow.bench.measure import ProcessUsage
from frugalflow.bench.phase import PhaseResult
from frugalflow.bench.runner import BenchStack
from frugalflow.bench.traffic import Outgoing, new_producer, publish_all
from frugalflow.infra.process import free_port

# Per request, the fewest Faust table writes and sends that FrugalFlow's guarantees take:
# the dedupe entry; the budget reservation and its release; the batch membership; and the
# answer and the cost event. The pipeline writes more: the day totals of each reservation,
# and a slice's membership again when it is done.
WORK = "4 table writes (dedupe entry, reservation, its release, batch membership), 2 sends"
SENDS = 2
PHASE = "Faust floor"
RESULT = "faust floor: "  # the result line's prefix


async def faust_floor_phase(
    stack: BenchStack, n: int, workdir: Path, timeout_s: float, model: str
) -> PhaseResult:
    """Publish ``n`` requests to a fresh topic, then let a floor process drain them."""
    source, sink = stack.topic("bench.floor-in"), stack.topic("bench.floor-out")
    records = [
        Outgoing.request(workloads.request(f"{stack.run_id}-f", i, priority="batch", model=model))
        for i in range(n)
    ]
    await stack.create_topics([source, sink])
    producer = new_producer(stack.bootstrap)
    await producer.start()
    try:
        await publish_all(producer, source, records)
    finally:
        await producer.stop()
    env = {
        **os.environ,
        "FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap,
        "FRUGALFLOW_BROKER_FLAVOR": "tansu" if stack.broker == "tansu" else "kafka",
        "FRUGALFLOW_PARTITIONS": str(stack.settings.partitions),
        "FRUGALFLOW_APP_ID": f"{stack.run_id}-floor",  # its changelogs go with the run's topics
        "FRUGALFLOW_DATA_DIR": str(workdir / "faust-floor"),
        "FRUGALFLOW_WEB_PORT": str(free_port()),
        "FRUGALFLOW_WEB_HOST": "127.0.0.1",
    }
    command = [sys.executable, "-m", "frugalflow.bench.faust_floor", source, sink, str(n)]
    with open(workdir / "faust-floor.log", "wb") as log:  # kept with the run's other logs
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=log)
        try:
            out, _ = await asyncio.to_thread(proc.communicate, timeout=timeout_s + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            out = b""
    result = _result_line(out)
    done = int(result.get("records", 0))
    return PhaseResult(
        name=PHASE,
        sent=n,
        answered=done,
        elapsed_s=result.get("wall_s"),
        usage=ProcessUsage(
            wall_s=float(result.get("wall_s") or 0.0),
            cpu_s=result.get("cpu_s"),
            peak_rss=result.get("peak_rss"),
        ),
        outcomes=Counter({"floor/ok": done}),
    )


def _result_line(out: bytes) -> dict[str, Any]:
    for line in reversed(out.decode(errors="replace").splitlines()):
        _, marker, found = line.partition(RESULT)  # after Faust's terminal control codes
        if marker:
            parsed: dict[str, Any] = json.loads(found)
            return parsed
    return {}  # the process died or timed out: the phase reports nothing answered


def run_floor(source: str, sink: str, count: int) -> int:
    """The floor process: a Faust worker with the one agent described in the module doc."""
    import faust

    from frugalflow.event_loop import use_event_loop
    from frugalflow.faust_sends import send_raw
    from frugalflow.pipeline import build_faust_app
    from frugalflow.settings import load_settings

    settings = load_settings()
    use_event_loop(settings.event_loop)
    app = build_faust_app(settings)
    partitions = settings.partitions
    topic = app.topic(source, partitions=partitions, key_serializer="raw", value_serializer="raw")
    seen = app.Table("floor-seen", default=None, partitions=partitions)
    ledger = app.Table("floor-ledger", default=None, partitions=partitions)
    members = app.Table("floor-members", default=None, partitions=partitions)
    clock: dict[str, float] = {}

    @app.agent(topic, name="faust-floor")
    async def floor(stream: Any) -> Any:
        done = 0
        async for event in stream.events():
            if not clock:
                clock.update(wall=time.monotonic(), cpu=time.process_time())
            msg = event.message
            key = f"{msg.partition}:{msg.offset}"
            seen[key] = f"{key}@{msg.timestamp:.3f}"
            ledger[key] = {"day": "2026-12-04", "amount": "0.001", "scopes": [""]}
            del ledger[key]
            members[key] = "slice"
            for _ in range(SENDS):
                await send_raw(app, sink, msg.key, msg.value)
            done += 1
            if done == count:
                await app.producer.flush()
                report = {
                    "records": done,
                    "wall_s": time.monotonic() - clock["wall"],
                    "cpu_s": time.process_time() - clock["cpu"],
                    "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                }
                print(RESULT + json.dumps(report), flush=True)
                # A throw-away app on the run's own topics: nothing to shut down cleanly.
                os._exit(0)

    # Faust would hand print() to its logger: the result line goes to the bench's pipe
    worker = faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
    return 1  # the worker stopped before COUNT records


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or not args[2].isdigit():
        print("usage: python -m frugalflow.bench.faust_floor SOURCE SINK COUNT", file=sys.stderr)
        return 2
    return run_floor(args[0], args[1], int(args[2]))


if __name__ == "__main__":
    raise SystemExit(main())
