"""``frugalflow bench latency``: what the immediate path adds to a direct SDK call.

The emulator answers after a fixed latency. At a modest rate, each tick publishes one
request to ``llm.requests`` and, at the same moment, makes the same call directly with
the official OpenAI SDK against the same emulator (and through the LiteLLM proxy when it
is installed). Pipeline time is publish → answer received on ``llm.responses`` by this
process; the added latency of a tick is its pipeline time minus its direct call time.
The first ``WARMUP`` ticks (connections, first fetches) are not counted.

Broker: Tansu (as ``make demo``) unless ``KAFKA_BOOTSTRAP_SERVERS`` names a Kafka to use
(``frugalflow.bench.runner``); the report's ``broker`` parameter says which. On Tansu each hop
costs up to the consumer's fetch wait, which ``frugalflow.kafka_compat`` keeps short.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

import openai

from frugalflow.bench import workloads
from frugalflow.bench.litellm_proxy import ProxyUnavailable, litellm_proxy
from frugalflow.bench.measure import machine, percentile
from frugalflow.bench.phase import outcome_of
from frugalflow.bench.report import BenchReport
from frugalflow.bench.runner import BenchStack, bench_stack
from frugalflow.bench.traffic import AnswerWatch, Outgoing, new_producer
from frugalflow.cli_reports.table import Column
from frugalflow.providers.registry import EMULATOR_KEY
from frugalflow.settings import Settings

MODEL = "gpt-5.4-mini"
WARMUP = 10
PERCENTILES = (50, 95, 99)


@dataclass(frozen=True, slots=True)
class Tick:
    direct_ms: float
    pipeline_ms: float | None  # None: no answer within the timeout
    proxy_ms: float | None = None
    outcome: str = ""

    @property
    def added_ms(self) -> float | None:
        return None if self.pipeline_ms is None else self.pipeline_ms - self.direct_ms


def run_latency(
    settings: Settings, workdir: Path, *, requests: int, latency_ms: int, rate: float,
    timeout_s: float,
) -> BenchReport:  # fmt: skip
    report = BenchReport(
        "latency",
        {
            "requests": requests,
            "warm-up requests (not counted)": WARMUP,
            "rate": f"{rate:g}/s",
            "emulator latency": f"{latency_ms} ms",
            "model": f"{MODEL} (OpenAI SDK, the emulator's /v1)",
            "path": "immediate",
        },
        machine(),
    )
    with bench_stack(settings, workdir) as stack:
        report.parameters["broker"] = stack.broker
        stack.configure_emulator(latency_ms=latency_ms)
        with contextlib.ExitStack() as extras:
            proxy_url: str | None = None
            try:
                proxy_url = extras.enter_context(litellm_proxy(stack.emulator_url, MODEL, workdir))
            except ProxyUnavailable as exc:
                report.notes.append(f"LiteLLM proxy: skipped, {exc}")
            ticks = asyncio.run(_measure(stack, requests + WARMUP, rate, timeout_s, proxy_url))
    _render(report, ticks[WARMUP:], with_proxy=proxy_url is not None)
    return report


async def _timed_call(client: openai.AsyncOpenAI, content: str) -> float:
    started = time.monotonic()
    await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}], max_tokens=32
    )
    return (time.monotonic() - started) * 1000


async def _measure(
    stack: BenchStack, total: int, rate: float, timeout_s: float, proxy_url: str | None
) -> list[Tick]:
    payloads = [
        workloads.request(stack.run_id, i, priority="immediate", model=MODEL) for i in range(total)
    ]
    records = [Outgoing.request(p) for p in payloads]
    direct = openai.AsyncOpenAI(
        base_url=f"{stack.emulator_url}/v1", api_key=EMULATOR_KEY, max_retries=0
    )
    proxy = (
        openai.AsyncOpenAI(base_url=proxy_url, api_key="bench", max_retries=0)
        if proxy_url
        else None
    )
    watch = await AnswerWatch(
        stack.bootstrap, stack.topic("llm.responses"), [r.request_id for r in records]
    ).start()
    producer = new_producer(stack.bootstrap, linger_ms=0)
    await producer.start()
    sent_at: dict[str, float] = {}
    topic = stack.topic("llm.requests")

    async def tick(i: int) -> tuple[float, float | None]:
        content = payloads[i]["messages"][0]["content"]
        direct_call = asyncio.create_task(_timed_call(direct, content))
        proxy_call = asyncio.create_task(_timed_call(proxy, content)) if proxy else None
        sent_at[records[i].request_id] = time.monotonic()
        await producer.send_and_wait(topic, key=records[i].key, value=records[i].value)
        return await direct_call, (await proxy_call if proxy_call else None)

    try:
        started = time.monotonic()
        tasks = []
        for i in range(total):
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(tick(i)))
        calls = await asyncio.gather(*tasks)
        await watch.wait(timeout_s)
    finally:
        await producer.stop()
        await watch.stop()
        await direct.close()
        if proxy is not None:
            await proxy.close()
    ticks = []
    for record, (direct_ms, proxy_ms) in zip(records, calls, strict=True):
        arrival = watch.arrivals.get(record.request_id)
        pipeline_ms = None if arrival is None else (arrival.at - sent_at[record.request_id]) * 1000
        outcome = "" if arrival is None else outcome_of(arrival.payload)
        ticks.append(Tick(direct_ms, pipeline_ms, proxy_ms, outcome))
    return ticks


def _row(name: str, values: list[float]) -> list[object]:
    if not values:
        return [name, 0, None, None, None, None, None]
    figures = [round(percentile(values, p), 1) for p in PERCENTILES]
    return [name, len(values), *figures, round(fmean(values), 1), round(max(values), 1)]


def _render(report: BenchReport, ticks: list[Tick], *, with_proxy: bool) -> None:
    answered = [t for t in ticks if t.pipeline_ms is not None]
    table = report.section(
        "Latency in ms (same ticks, same emulator)",
        Column("series"), Column("n", "int"), *(Column(f"P{p}", "num") for p in PERCENTILES),
        Column("mean", "num"), Column("max", "num"),
    )  # fmt: skip
    table.add(*_row("direct SDK call", [t.direct_ms for t in ticks]))
    table.add(
        *_row("pipeline (immediate path)", [t.pipeline_ms for t in answered if t.pipeline_ms])
    )
    table.add(
        *_row("added by the pipeline", [t.added_ms for t in answered if t.added_ms is not None])
    )
    if with_proxy:
        proxied = [t for t in ticks if t.proxy_ms is not None]
        table.add(*_row("LiteLLM proxy", [t.proxy_ms for t in proxied if t.proxy_ms]))
        table.add(
            *_row("added by LiteLLM", [t.proxy_ms - t.direct_ms for t in proxied if t.proxy_ms])
        )
    outcomes = report.section("Answers", Column("path/status"), Column("n", "int"))
    for outcome in sorted({t.outcome for t in answered}):
        outcomes.add(outcome, sum(1 for t in answered if t.outcome == outcome))
    report.notes.append(
        "added = pipeline time - direct call time of the same tick; each percentile is of "
        "those per-tick differences, so it is not P(pipeline) - P(direct)"
    )
    report.complete = len(answered) == len(ticks)
