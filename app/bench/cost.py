"""``frugalflow bench cost``: reference workloads priced from their own cost events.

(a) Document processing as in PipesHub: per document 2,000 input tokens of which 1,500
are a prompt shared by every document, 500 output tokens at most, on a $3/$15 per M
model (``DOCUMENT_MODEL``), on the batch path. The reference figures per million
documents come from the catalog: the standard real-time price ($13,500) and the floor
when the batch discount and a cached prefix both apply ($4,725). The measured cost is
the sum of the run's cost rows in Postgres, extrapolated exactly (``Decimal``; the
document count divides one million).

(b) A coaching chat mix (``workloads.COACHING_MIX``, fixed seed) on ``model: "auto"``,
published at a steady rate: cost against baseline and the savings of each lever, as the
cost events report them. Nothing here computes a saving; levers the pipeline does not
pull read 0.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.bench import workloads
from app.bench.cost_rows import RunCosts, publish_and_total
from app.bench.measure import machine
from app.bench.report import BenchReport
from app.bench.runner import bench_stack
from app.cli_reports.table import Column
from app.costing.catalog import ModelPrice, price_of
from app.reports.models import percent_of
from app.reports.rollups import LEVERS
from app.settings import Settings

DOCUMENT_MODEL = "claude-sonnet-4-5"
ONE_MILLION = 1_000_000
PACING = {
    "FRUGALFLOW_WINDOW_MAX_SECONDS": "1",
    "FRUGALFLOW_BATCH_POLL_INTERVAL_S": "0.5",
    "FRUGALFLOW_BATCH_POLL_MAX_INTERVAL_S": "1",
    "FRUGALFLOW_EMULATOR_BATCH_DELAY_S": "0",
}


@dataclass(frozen=True, slots=True)
class ShapeCosts:
    """What documents of one token shape cost: list price, and batch + cached prefix."""

    standard: Decimal
    floor: Decimal


def shape_costs(
    price: ModelPrice, *, input_tokens: int, cached_tokens: int, output_tokens: int,
    documents: int = ONE_MILLION,
) -> ShapeCosts:  # fmt: skip
    """``input_tokens`` is the whole prompt, ``cached_tokens`` the part read from the cache."""
    standard = (input_tokens * price.input + output_tokens * price.output) * documents
    cached = (
        cached_tokens * price.cache_read
        + (input_tokens - cached_tokens) * price.input
        + output_tokens * price.output
    )
    return ShapeCosts(standard, cached * (1 - price.batch_discount) * documents)


def reference_costs(
    price: ModelPrice, shape: workloads.DocumentShape = workloads.PIPESHUB
) -> ShapeCosts:
    """Per million documents of ``shape``: $13,500 and $4,725 on a $3/$15 model."""
    return shape_costs(
        price, input_tokens=shape.input_tokens, cached_tokens=shape.prefix_tokens,
        output_tokens=shape.output_tokens,
    )  # fmt: skip


def per_million(total: Decimal, documents: int) -> Decimal:
    """``total`` for ``documents`` scaled to one million, exactly (``documents`` divides it)."""
    if ONE_MILLION % documents:
        raise ValueError(f"{documents} does not divide 1,000,000")
    return total * (ONE_MILLION // documents)


def run_cost(
    settings: Settings, workdir: Path, *, documents: int, chats: int, seed: int, rate: float,
    timeout_s: float,
) -> BenchReport:  # fmt: skip
    report = BenchReport(
        "cost",
        {
            "documents (a)": documents,
            "document shape": "2,000 input tokens (1,500 shared prefix), max 500 output",
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
        stack.configure_emulator(latency_ms=0, batch_delay_s=0)
        docs_run, chats_run = f"{stack.run_id}-docs", f"{stack.run_id}-chat"
        doc_list = workloads.document_requests(docs_run, documents, model=DOCUMENT_MODEL)
        docs = asyncio.run(
            publish_and_total(stack, docs_run, doc_list, rate=None, timeout_s=timeout_s)
        )
        chat_list = workloads.coaching_chats(chats_run, chats, seed=seed)
        chat_costs = asyncio.run(
            publish_and_total(
                stack, chats_run, [c.payload for c in chat_list], rate=rate, timeout_s=timeout_s
            )
        )
    render_documents(report, docs, documents)
    render_chats(report, chat_costs, chat_list)
    report.complete = docs.complete and chat_costs.complete
    return report


def _per_m(per_token: Decimal) -> str:
    return format((per_token * ONE_MILLION).normalize(), "f")


def _avg(total: int, n: int) -> Decimal:
    return (Decimal(total) / n).quantize(Decimal("0.1"))


def render_documents(report: BenchReport, run: RunCosts, n: int) -> None:
    price = price_of(DOCUMENT_MODEL)
    reference = reference_costs(price)
    shape = workloads.PIPESHUB
    tokens = run.tokens or dict.fromkeys(
        ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens"), 0
    )
    cached = tokens["cache_read_tokens"] + tokens["cache_write_tokens"]
    prompt = tokens["input_tokens"] + cached
    measured_floor = shape_costs(
        price, input_tokens=prompt, cached_tokens=cached, output_tokens=tokens["output_tokens"],
        documents=1,
    ).floor  # fmt: skip
    shapes = report.section(
        "(a) Documents: tokens per document",
        Column("tokens"), Column("reference", "num"), Column("measured (mean)", "num"),
    )  # fmt: skip
    shapes.add("prompt (all input)", shape.input_tokens, _avg(prompt, n))
    shapes.add(
        "  read from the prompt cache", shape.prefix_tokens, _avg(tokens["cache_read_tokens"], n)
    )
    shapes.add("  written to the prompt cache", 0, _avg(tokens["cache_write_tokens"], n))
    shapes.add(
        "  uncached", shape.input_tokens - shape.prefix_tokens, _avg(tokens["input_tokens"], n)
    )
    shapes.add("output", shape.output_tokens, _avg(tokens["output_tokens"], n))

    costs = report.section(
        f"(a) Documents: cost ({DOCUMENT_MODEL}, "
        f"${_per_m(price.input)}/${_per_m(price.output)} per M tokens)",
        Column(""), Column("per 1 M documents", "money"),
    )  # fmt: skip
    costs.add("reference standard: real time, no caching", reference.standard)
    costs.add("reference floor: batch + 1,500-token prefix cached", reference.floor)
    costs.add(
        "measured shape, standard (the run's recorded baseline)",
        per_million(run.baseline, n),
    )
    costs.add(
        "measured shape, floor (batch + every cached token read)", per_million(measured_floor, n)
    )
    costs.add("measured: the pipeline's cost (Postgres cost rows)", per_million(run.cost, n))
    levers = report.section(
        "(a) Documents: savings by lever", Column("lever"), Column("per 1 M documents", "money")
    )
    for lever in LEVERS:
        levers.add(lever, per_million(run.savings.get(lever, Decimal(0)), n))
    paths = Counter(f"{a['path']}/{a['status']}" for a in run.answers.values())
    report.notes.append(
        f"(a) {len(run.answers)} of {n} documents answered ("
        + ", ".join(f"{k} {v}" for k, v in sorted(paths.items()))
        + f"), {run.rows} cost rows; the run's sums x {ONE_MILLION // n:,}"
    )
    report.notes.append(
        "(a) the emulator answers 12-59 tokens (its documented rule), not 500: compare the "
        "measured cost with the floor of the measured shape; the reference rows price the "
        "500-token shape. Cache writes (first use of the prefix) scale linearly too, so the "
        "per-million figure is an upper bound on their share"
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
