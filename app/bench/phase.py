"""One measured phase: publish N requests, wait for every answer, meter the worker meanwhile.

Elapsed time runs from the first publish to the last answer received; the worker's CPU
seconds and sampled peak RSS cover the same interval (to the moment the wait ended).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from frugalflow.bench.measure import GroupMeter, ProcessUsage
from frugalflow.bench.runner import BenchStack
from frugalflow.bench.traffic import AnswerWatch, Outgoing, new_producer, publish_all


@dataclass(frozen=True)
class PhaseResult:
    name: str
    sent: int
    answered: int
    elapsed_s: float | None  # first publish → last answer; None when nothing came back
    usage: ProcessUsage  # of the processes doing the work (workers summed, or passthrough)
    outcomes: Counter[str]  # "path/status" of the answers
    workers: int = 1

    @property
    def complete(self) -> bool:
        return self.answered == self.sent

    @property
    def rate(self) -> float | None:
        if not self.elapsed_s:
            return None
        return self.answered / self.elapsed_s

    @property
    def cpu_ms_per_request(self) -> float | None:
        """Worker CPU (all workers) per answered request, in milliseconds."""
        if self.usage.cpu_s is None or not self.answered:
            return None
        return 1000 * self.usage.cpu_s / self.answered


def outcome_of(payload: dict[str, Any]) -> str:
    return f"{payload.get('path', '?')}/{payload.get('status', '?')}"


async def run_phase(
    stack: BenchStack, name: str, payloads: list[dict[str, Any]], timeout_s: float
) -> PhaseResult:
    records = [Outgoing.request(p) for p in payloads]
    watch = await AnswerWatch(
        stack.bootstrap, stack.topic("llm.responses"), [r.request_id for r in records]
    ).start()
    producer = new_producer(stack.bootstrap)
    await producer.start()
    meter = GroupMeter(stack.worker_pids).start()
    try:
        started = await publish_all(producer, stack.topic("llm.requests"), records)
        await watch.wait(timeout_s)
    finally:
        usage = meter.stop()
        await producer.stop()
        await watch.stop()
    last = watch.last_arrival()
    return PhaseResult(
        name=name,
        sent=len(records),
        answered=len(watch.arrivals),
        elapsed_s=None if last is None else last - started,
        usage=usage,
        outcomes=Counter(outcome_of(a.payload) for a in watch.arrivals.values()),
        workers=len(stack.worker_pids),
    )
