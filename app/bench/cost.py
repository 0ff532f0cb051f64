"""``frugalflow bench cost``: reference workloads priced from their own cost events.

(a) Document processing as in PipesHub: per document 2,000 input tokens of which 1,500
are a prompt shared by every document, 500 output tokens, on a $3/$15 per M model
(``DOCUMENT_MODEL``), on the batch path. The emulator is told to answer 500 tokens
(``answer_tokens``), so every document really has the reference shape. The measured cost
is the sum of the run's cost rows in Postgres, extrapolated exactly (``Decimal``; the
document count divides one million), against the catalog's reference figures per million
documents: the standard real-time price ($13,500) and the floor when the batch discount
and a cached prefix both apply ($4,725). The gap to the floor is split by its causes
(``cost_floor.floor_gap``).

(b) A coaching chat mix (``workloads.COACHING_MIX``, fixed seed) on ``model: "auto"``,
published at a steady rate, with the emulator's own answer lengths: cost against baseline
and the savings of each lever, as the cost events report them. Nothing here computes a
saving; levers the pipeline does not pull read 0.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from frugalflow.bench import workloads
from frugalflow.bench.cost_floor import ONE_MILLION, floor_gap, per_million, reference_costs
from frugalflow.bench.cost_rows import RunCosts, publish_and_total
from frugalflow.bench.measure import machine
from frugalflow.bench.report import BenchReport
from frugalflow.bench.runner import BenchStack, bench_stack
from frugalflow.cli_reports.table import Column
from frugalflow.costing.catalog import price_of
from frugalflow.reports.models import percent_of
from frugalflow.reports.rollups import LEVERS, TOKEN_COLUMNS
from frugalflow.settings import Settings

DOCUMENT_MODEL = "claude-sonnet-4-6"  # $3 input / $15 output per M tokens in the catalog
PACING = {
    "FRUGALFLOW_WINDOW_MAX_SECONDS": "1",
    "FRUGALFLOW_BATCH_POLL_INTERVAL_S": "0.5",
    "FRUGALFLOW_BATCH_POLL_MAX_INTERVAL_S": "1",
    "FRUGALFLOW_EMULATOR_BATCH_DELAY_S": "0",
}


def run_cost(
    settings: Settings, workdir: Path, *, documents: int, chats: int, seed: int, rate: float,
    timeout_s: float,
) -> BenchReport:  # fmt: skip
    shape = workloads.PIPESHUB
    report = BenchReport(
        "cost",
        {
            "documents (a)": documents,
            "document shape": f"{shape.input_tokens:,} input tokens ({shape.prefix_tokens:,} "
            f"shared prefix), {shape.output_tokens:,} output",
            "document model": DOCUMENT_MODEL,
            "chats (b)": chats,
            "chat mix": ", ".join(f"{k} {v:.0%}" for k, v in workloads.COACHING_MIX.items()),
            "chat model": "auto",
            "seed": seed,
            "chat rate": f"{rate:g}/s",
        },
        machine(),
    )
    with bench_stack(settings, workdir, pacing=PACING) as stack:
        report.parameters["broker"] = stack.broker
        docs_run, chats_run = f"{stack.run_id}-docs", f"{stack.run_id}-chat"
        stack.configure_emulator(latency_ms=0, batch_delay_s=0, answer_tokens=shape.output_tokens)
        doc_list = workloads.document_requests(docs_run, documents, model=DOCUMENT_MODEL)
        docs = asyncio.run(
            publish_and_total(stack, docs_run, doc_list, rate=None, timeout_s=timeout_s)
        )
        batches = anthropic_batches(stack)
        stack.configure_emulator(answer_tokens=None)  # chats: the emulator's own lengths
        chat_list = workloads.coaching_chats(chats_run, chats, seed=seed)
        chat_costs = asyncio.run(
            publish_and_total(
                stack, chats_run, [c.payload for c in chat_list], rate=rate, timeout_s=timeout_s
            )
        )
    render_documents(report, docs, documents, batches)
    render_chats(report, chat_costs, chat_list)
    report.complete = docs.complete and chat_costs.complete
    return report


def anthropic_batches(stack: BenchStack) -> int:
    """Message batches the emulator has received so far (``GET /_emulator/stats``)."""
    response = httpx.get(f"{stack.emulator_url}/_emulator/stats", timeout=10)
    response.raise_for_status()
    return int(response.json()["batches_created"].get("anthropic", 0))


def _per_m(per_token: Decimal) -> str:
    return format((per_token * ONE_MILLION).normalize(), "f")


def _avg(total: int, n: int) -> Decimal:
    return (Decimal(total) / n).quantize(Decimal("0.1"))


def _share(part: Decimal, whole: Decimal) -> str:
    """Percent to 3 decimals: the gap to the floor is a few hundredths of a percent."""
    return f"{part / whole * 100:.3f}%"


def render_documents(report: BenchReport, run: RunCosts, n: int, batches: int) -> None:
    price = price_of(DOCUMENT_MODEL)
    shape = workloads.PIPESHUB
    reference = reference_costs(price, shape)
    tokens = {column: run.tokens.get(column, 0) for column in TOKEN_COLUMNS}
    writes, reads = tokens["cache_write_tokens"], tokens["cache_read_tokens"]
    prompt = tokens["input_tokens"] + writes + reads
    shapes = report.section(
        "(a) Documents: tokens per document",
        Column("tokens"), Column("reference", "num"), Column("measured (mean)", "num"),
    )  # fmt: skip
    shapes.add("prompt (all input)", shape.input_tokens, _avg(prompt, n))
    shapes.add("  read from the prompt cache", shape.prefix_tokens, _avg(reads, n))
    shapes.add("  written to the prompt cache", 0, _avg(writes, n))
    shapes.add(
        "  uncached", shape.input_tokens - shape.prefix_tokens, _avg(tokens["input_tokens"], n)
    )
    shapes.add("output", shape.output_tokens, _avg(tokens["output_tokens"], n))

    measured = per_million(run.cost, n)
    above = measured - reference.floor
    costs = report.section(
        f"(a) Documents: cost ({DOCUMENT_MODEL}, "
        f"${_per_m(price.input)}/${_per_m(price.output)} per M tokens)",
        Column(""), Column("per document", "money"), Column("per 1 M documents", "money"),
        Column("% of floor", "num"),
    )  # fmt: skip
    for label, per_m in (
        ("reference standard: real time, no caching", reference.standard),
        ("reference floor: batch + 1,500-token prefix cached", reference.floor),
        ("measured baseline (the run's recorded baseline)", per_million(run.baseline, n)),
        ("measured: the pipeline's cost (Postgres cost rows)", measured),
        ("measured above the floor", above),
    ):
        # per document: exact, since the document count divides a million
        costs.add(label, per_m.scaleb(-6), per_m, _share(per_m, reference.floor))

    gap = report.section(
        "(a) Documents: why the measured cost is above the floor",
        Column("cause"), Column("tokens in the run", "int"), Column("per 1 M documents", "money"),
    )  # fmt: skip
    parts = floor_gap(price, tokens, n, shape)
    for part in parts:
        gap.add(part.reason, part.tokens, per_million(part.usd, n))
    explained = sum((per_million(part.usd, n) for part in parts), Decimal(0))
    gap.add("other (answers off the batch path, 1-hour cache writes)", None, above - explained)
    gap.add("total above the floor", None, above)

    levers = report.section(
        "(a) Documents: savings by lever", Column("lever"), Column("per 1 M documents", "money")
    )
    for lever in LEVERS:
        levers.add(lever, per_million(run.savings.get(lever, Decimal(0)), n))
    paths = Counter(f"{a['path']}/{a['status']}" for a in run.answers.values())
    report.notes.append(
        f"(a) {len(run.answers)} of {n} documents answered ("
        + ", ".join(f"{k} {v}" for k, v in sorted(paths.items()))
        + f") in {batches} message batch{'es' if batches != 1 else ''}, {run.rows} cost rows; "
        f"measured = the run's sums x {ONE_MILLION // n:,}"
    )
    report.notes.append(
        f"(a) above the floor: {writes:,} prefix tokens were written to the prompt cache "
        f"(${price.cache_write_5m * ONE_MILLION:.2f}/M, batch-discounted) where the floor "
        f"reads them (${price.cache_read * ONE_MILLION:.2f}/M): the first document to use "
        "the prefix writes it. The emulator works through its batches in order on one "
        "prompt cache, so later documents read it; the real API runs a batch's requests "
        "concurrently and may write more than once per batch, and a written prefix lives "
        f"5 minutes. The extrapolation scales the writes too ({writes:,} tokens per {n:,} "
        "documents): more documents per run would write less per document"
    )


def render_chats(report: BenchReport, run: RunCosts, chats: list[workloads.Chat]) -> None:
    kinds = {str(c.payload["request_id"]): c.kind for c in chats}
    by_kind = report.section(
        "(b) Coaching chats: answers by kind (from llm.responses)",
        Column("kind"), Column("path/status"), Column("model"), Column("answers", "int"),
        Column("cost", "money"), Column("baseline", "money"),
    )  # fmt: skip
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for rid, answer in run.answers.items():
        key = (kinds[rid], f"{answer['path']}/{answer['status']}", answer.get("model") or "-")
        groups[key].append(answer)
    for (kind, path, model), answers in sorted(groups.items()):
        by_kind.add(
            kind, path, model, len(answers),
            sum((Decimal(a["cost_usd"]) for a in answers), Decimal(0)),
            sum((Decimal(a["baseline_cost_usd"]) for a in answers), Decimal(0)),
        )  # fmt: skip
    baseline, cost = Decimal(run.baseline), Decimal(run.cost)
    totals = report.section(
        "(b) Coaching chats: cost (Postgres cost rows)", Column(""), Column("USD", "money"),
        Column("% of baseline", "pct"),
    )  # fmt: skip
    totals.add("baseline (requested model, real time, no caching)", baseline, Decimal(100))
    for lever in LEVERS:
        saved = Decimal(run.savings.get(lever, Decimal(0)))
        totals.add(f"saved by {lever}", saved, percent_of(saved, baseline))
    totals.add("cost", cost, percent_of(cost, baseline))
    report.notes.append(
        f"(b) {len(run.answers)} of {run.expected} chats answered, "
        f"{run.rows} cost rows; levers as recorded in the cost events"
    )
    idle = [lever for lever in LEVERS if not run.savings.get(lever)]
    if idle:
        report.notes.append(
            f"(b) levers at 0 in this run: {', '.join(idle)}. A lever reads 0 when the "
            "pipeline did not pull it for this mix (chats are immediate: no batch discount)"
        )
    dearer = [lever for lever in LEVERS if run.savings.get(lever, Decimal(0)) < 0]
    if dearer:
        report.notes.append(
            f"(b) negative: {', '.join(dearer)}; the answers cost more than the baseline "
            "through that lever (routing: a dearer model than the baseline's; prompt_cache: "
            "more cache writes than reads), see the answers by kind"
        )
