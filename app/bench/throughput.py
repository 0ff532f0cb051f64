"""``frugalflow bench throughput``: requests/s through the real pipeline, and the raw ceiling.

One worker (``--workers N``: N processes in one group, sharing the partitions), the
emulator at zero latency and zero batch delay, short windows and fast polling, so the
figures are the pipeline's own cost. The batch path and the immediate path are measured
separately (all N published at once, first publish → last answer). Then the immediate
path again with the emulator answering after ``SLOW_PROVIDER_MS``: every request is
published at once, so hundreds are in flight, and the rate shows whether a slow provider
caps the worker (it should not: ``FRUGALFLOW_IMMEDIATE_CONCURRENCY`` calls wait at once).
In the same run, on the same broker, a plain aiokafka consume → produce passthrough of
the same records (``frugalflow.bench.passthrough``, its own process) gives the ceiling that no
Kafka stream processor in Python can beat on this machine; and a Faust agent that only
writes the table entries and sends the records a request takes (``frugalflow.bench.faust_floor``)
gives the floor of Faust's own machinery, below which no Faust worker with FrugalFlow's
guarantees can go.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

from frugalflow.bench import workloads
from frugalflow.bench.faust_floor import PHASE as FAUST_FLOOR
from frugalflow.bench.faust_floor import WORK, faust_floor_phase
from frugalflow.bench.measure import ProcessMeter, machine, mib
from frugalflow.bench.phase import PhaseResult, run_phase
from frugalflow.bench.report import BenchReport
from frugalflow.bench.runner import BenchStack, bench_stack
from frugalflow.bench.traffic import AnswerWatch, Outgoing, new_producer, publish_all
from frugalflow.cli_reports.table import Column
from frugalflow.event_loop import resolve
from frugalflow.settings import Settings

MODEL = "claude-haiku-4-5"
SLOW_PROVIDER_MS = 50
PACING = {
    "FRUGALFLOW_WINDOW_MAX_SECONDS": "0.5",
    "FRUGALFLOW_BATCH_POLL_INTERVAL_S": "0.2",
    "FRUGALFLOW_BATCH_POLL_MAX_INTERVAL_S": "0.2",
    "FRUGALFLOW_EMULATOR_BATCH_DELAY_S": "0",
    "FRUGALFLOW_EMULATOR_LATENCY_MS": "0",
}


def run_throughput(
    settings: Settings, workdir: Path, *, batch: int, immediate: int, passthrough: int,
    timeout_s: float, workers: int = 1, slow: int = 0, faust_floor: int = 0,
) -> BenchReport:  # fmt: skip
    report = BenchReport(
        "throughput",
        {
            "batch requests": batch,
            "immediate requests": immediate,
            "slow-provider requests": slow,
            "passthrough records": passthrough,
            "Faust floor records": faust_floor,
            "Faust floor work per record": WORK,
            "model": MODEL,
            "emulator latency": f"0 ms ({SLOW_PROVIDER_MS} ms in the slow-provider phase), "
            "batch delay 0 s",
            "worker": f"{workers} process{'es' if workers > 1 else ''} in one group, "
            f"{settings.partitions} partitions, window "
            f"{PACING['FRUGALFLOW_WINDOW_MAX_SECONDS']} s, batch poll "
            f"{PACING['FRUGALFLOW_BATCH_POLL_INTERVAL_S']} s, immediate concurrency "
            f"{settings.immediate_concurrency}, event loop {resolve(settings.event_loop)}",
        },
        machine(),
    )
    with bench_stack(settings, workdir, pacing=PACING, workers=workers) as stack:
        report.parameters["broker"] = stack.broker
        stack.configure_emulator(latency_ms=0, batch_delay_s=0)
        phases = asyncio.run(_measure(stack, batch, immediate, slow, passthrough, timeout_s))
        if faust_floor:
            phases.append(
                asyncio.run(faust_floor_phase(stack, faust_floor, workdir, timeout_s, MODEL))
            )
    _render(report, phases)
    return report


async def _measure(
    stack: BenchStack, batch: int, immediate: int, slow: int, passthrough: int, timeout_s: float
) -> list[PhaseResult]:
    run = stack.run_id
    phases = []
    if batch:
        payloads = [
            workloads.request(f"{run}-b", i, priority="batch", model=MODEL) for i in range(batch)
        ]
        phases.append(await run_phase(stack, "batch path", payloads, timeout_s))
    if immediate:
        payloads = [
            workloads.request(f"{run}-i", i, priority="immediate", model=MODEL)
            for i in range(immediate)
        ]
        phases.append(await run_phase(stack, "immediate path", payloads, timeout_s))
    if slow:
        payloads = [
            workloads.request(f"{run}-s", i, priority="immediate", model=MODEL) for i in range(slow)
        ]
        await asyncio.to_thread(stack.configure_emulator, latency_ms=SLOW_PROVIDER_MS)
        try:
            name = f"immediate, provider at {SLOW_PROVIDER_MS} ms"
            phases.append(await run_phase(stack, name, payloads, timeout_s))
        finally:
            await asyncio.to_thread(stack.configure_emulator, latency_ms=0)
    if passthrough:
        phases.append(await passthrough_ceiling(stack, passthrough, timeout_s))
    return phases


async def passthrough_ceiling(stack: BenchStack, n: int, timeout_s: float) -> PhaseResult:
    """The same kind of records through a bare consume → produce process on a fresh topic pair."""
    source, sink = stack.topic("bench.passthrough-in"), stack.topic("bench.passthrough-out")
    await stack.create_topics([source, sink])
    records = [
        Outgoing.request(workloads.request(f"{stack.run_id}-p", i, priority="immediate",
                                           model=MODEL))
        for i in range(n)
    ]  # fmt: skip
    watch = await AnswerWatch(stack.bootstrap, sink, [r.request_id for r in records]).start()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "frugalflow.bench.passthrough",
            stack.bootstrap,
            source,
            sink,
            str(n),
        ],
        stdout=subprocess.PIPE,
    )
    producer = new_producer(stack.bootstrap)
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"the passthrough process did not start (said {line!r})")
        await producer.start()
        meter = ProcessMeter(proc.pid).start()
        try:
            started = await publish_all(producer, source, records)
            await watch.wait(timeout_s)
        finally:
            usage = meter.stop()
    finally:
        await producer.stop()
        await watch.stop()
        _end(proc)
    last = watch.last_arrival()
    return PhaseResult(
        name="passthrough ceiling",
        sent=n,
        answered=len(watch.arrivals),
        elapsed_s=None if last is None else last - started,
        usage=usage,
        outcomes=Counter({"copied/ok": len(watch.arrivals)}),
    )


def _end(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _render(report: BenchReport, phases: list[PhaseResult]) -> None:
    figures = report.section(
        "Throughput (first publish → last answer)",
        Column("phase"), Column("sent", "int"), Column("answered", "int"),
        Column("elapsed s", "num"), Column("req/s", "num"), Column("workers", "int"),
        Column("req/s per worker", "num"), Column("CPU s", "num"), Column("CPU ms/req", "num"),
        Column("CPU %", "num"), Column("peak RSS MiB", "num"),
    )  # fmt: skip
    for phase in phases:
        rate = phase.rate
        per_worker = None if rate is None else rate / phase.workers
        figures.add(
            phase.name, phase.sent, phase.answered, _round(phase.elapsed_s, 3), _round(rate, 1),
            phase.workers, _round(per_worker, 1), _round(phase.usage.cpu_s, 2),
            _round(phase.cpu_ms_per_request, 2), _round(phase.usage.cpu_percent, 0),
            mib(phase.usage.peak_rss),
        )  # fmt: skip
    answers = report.section("Answers", Column("phase"), Column("path/status"), Column("n", "int"))
    for phase in phases:
        for outcome, n in sorted(phase.outcomes.items()):
            answers.add(phase.name, outcome, n)
    references = {
        "passthrough ceiling": "the raw passthrough ceiling",
        FAUST_FLOOR: "the Faust floor",
    }
    pipeline = [p for p in phases if p.name not in references and p.rate]
    for reference, label in references.items():
        bound = next((p for p in phases if p.name == reference and p.rate), None)
        if bound is None or not bound.rate:
            continue
        for phase in pipeline:
            assert phase.rate is not None
            report.notes.append(f"{phase.name}: {phase.rate / bound.rate:.1%} of {label}")
    report.notes.append(
        "CPU % is of one core (200 % = both cores of a 2-core machine); CPU is the workers' "
        "summed (the passthrough's or the Faust floor's own process for those), peak RSS the "
        "largest worker's, sampled from /proc; CPU ms/req = CPU s / answered"
    )
    report.notes.append(
        f"{FAUST_FLOOR}: a Faust agent built as the worker's that does per record only {WORK}, "
        "no FrugalFlow logic; timed by the process itself from its first record to its "
        "last (its CPU over the same interval, its peak RSS over its whole life, from "
        "getrusage), the records published before it starts"
    )
    report.complete = all(p.complete for p in phases)


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)
