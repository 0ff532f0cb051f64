"""``frugalflow bench cost``: the reference arithmetic (exact ``Decimal``), the workloads'
exact shapes, and a tiny run whose figures must add up to the cent (to the 1e-10 dollar)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from frugalflow.bench import workloads
from frugalflow.bench.cost_floor import floor_gap, per_million, reference_costs, shape_costs
from frugalflow.cli import main
from frugalflow.costing.calculator import cost_and_savings
from frugalflow.costing.catalog import price_of
from frugalflow.emulator.tokens import MESSAGE_OVERHEAD_TOKENS, REQUEST_OVERHEAD_TOKENS, text_tokens
from frugalflow.providers.base import Usage
from frugalflow.reports.rollups import LEVERS
from tests.bench.support import by_first_column, rows, run_json


def test_reference_figures_come_from_the_catalog() -> None:
    price = price_of("claude-sonnet-4-6")
    assert (price.input, price.output) == (Decimal("0.000003"), Decimal("0.000015"))
    reference = reference_costs(price)
    assert reference.standard == Decimal(13_500)
    assert reference.floor == Decimal(4_725)
    # Without a cached prefix the floor is the batch discount alone.
    plain = shape_costs(price, input_tokens=2000, cached_tokens=0, output_tokens=500)
    assert plain.floor == Decimal(6_750)


def test_floor_gap_explains_a_run_exactly() -> None:
    """Two runs of 1,000 documents priced by the pipeline's own calculator: the floor plus
    the gap's parts is what they cost, to the last digit."""
    price = price_of("claude-sonnet-4-6")
    writer = Usage(input_tokens=500, output_tokens=500, cache_write_tokens=1500)
    reader = Usage(input_tokens=500, output_tokens=500, cache_read_tokens=1500)
    short = Usage(input_tokens=500, output_tokens=120, cache_read_tokens=1500)

    def batch_cost(usage: Usage) -> Decimal:
        cost, _, _ = cost_and_savings(
            usage, model="claude-sonnet-4-6", requested_model="claude-sonnet-4-6", mode="batch"
        )
        return cost

    def sums(docs: list[Usage]) -> dict[str, int]:
        return {k: sum(d.as_dict()[k] for d in docs) for k in docs[0].as_dict()}

    floor = reference_costs(price, documents=1000).floor
    assert floor == Decimal("4.725")
    run = [writer, *[reader] * 998, short]
    parts = {p.reason.split(" ")[0]: p for p in floor_gap(price, sums(run), 1000)}
    assert parts["prompt-cache"].tokens == 1500
    assert parts["prompt-cache"].usd == Decimal("0.0025875")  # 1,500 x ($3.75 - $0.30)/M / 2
    assert parts["output"].tokens == -380
    assert parts["output"].usd == Decimal("-0.00285")  # 380 x $15/M / 2
    assert parts["prefix"].usd == parts["uncached"].usd == 0
    total = sum((batch_cost(u) for u in run), Decimal(0))
    assert floor + sum(p.usd for p in parts.values()) == total
    # At the reference shape with every prefix read, there is no gap at all.
    assert all(p.usd == 0 for p in floor_gap(price, sums([reader] * 1000), 1000))


def test_per_million_is_exact_and_refuses_inexact_scales() -> None:
    assert per_million(Decimal("1.2345678901"), 1000) == Decimal("1234.5678901")
    assert per_million(Decimal("0.0000000003"), 3125) == Decimal("0.000000096")
    with pytest.raises(ValueError, match="does not divide"):
        per_million(Decimal(1), 3)


def test_documents_have_the_exact_pipeshub_shape_in_emulator_tokens() -> None:
    (doc,) = workloads.document_requests("run", 1, model="claude-sonnet-4-6")
    prefix = REQUEST_OVERHEAD_TOKENS + MESSAGE_OVERHEAD_TOKENS + text_tokens(doc["system"])
    question = MESSAGE_OVERHEAD_TOKENS + text_tokens(doc["messages"][0]["content"])
    assert (prefix, prefix + question, doc["max_tokens"]) == (1500, 2000, 500)
    assert doc["priority"] == "batch"


def test_coaching_mix_is_seeded_and_repeats_come_from_the_asking_tenant() -> None:
    chats = workloads.coaching_chats("run", 200, seed=3)
    assert [c.payload for c in chats] == [
        c.payload for c in workloads.coaching_chats("run", 200, seed=3)
    ]
    kinds = Counter(c.kind for c in chats)
    assert kinds["trivial"] == 40 and kinds["complex"] == 20
    assert kinds["repeated"] + kinds["simple"] == 140 and kinds["repeated"] > 0
    asked = {}
    for i, chat in enumerate(chats):
        question = chat.payload["messages"][-1]["content"]
        if chat.kind == "simple":
            asked[question] = (i, chat.payload["tenant_id"])
        if chat.kind == "repeated":
            first, tenant = asked[question]
            assert i - first >= workloads.REPEAT_MIN_DISTANCE
            assert chat.payload["tenant_id"] == tenant


def test_documents_must_divide_a_million(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "cost", "--documents", "300"]) == 2
    assert capsys.readouterr().err.strip() == (
        "frugalflow: --documents must divide 1,000,000 so the per-million extrapolation is "
        "exact (e.g. 500, 1000, 2000), got 300"
    )


def _money(value: str) -> Decimal:
    return Decimal(value)


def test_cost_bench_figures_add_up(bench_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "cost", "--documents", "100", "--chats", "40", "--rate", "40")
    assert doc["complete"] is True

    # (a) every document has the PipesHub shape, 500 output tokens included.
    shape = by_first_column(rows(doc, "(a) Documents: tokens"))
    mean = {k: Decimal(v["measured (mean)"]) for k, v in shape.items()}
    assert mean["prompt (all input)"] == 2000
    assert mean["  uncached"] == 500
    assert mean["  read from the prompt cache"] + mean["  written to the prompt cache"] == 1500
    assert mean["  written to the prompt cache"] > 0  # the first document wrote the prefix
    assert mean["output"] == 500

    costs = by_first_column(rows(doc, "(a) Documents: cost"))
    per_m = {k: _money(v["per 1 M documents"]) for k, v in costs.items()}
    for label, row in costs.items():  # per document is the per-million figure / 10^6, exactly
        assert _money(row["per document"]) * 1_000_000 == per_m[label], label
    assert per_m["reference standard: real time, no caching"] == 13_500
    assert per_m["reference floor: batch + 1,500-token prefix cached"] == 4_725
    # The shape is exact, so the baseline the pipeline recorded is the reference standard.
    assert per_m["measured baseline (the run's recorded baseline)"] == 13_500
    measured = per_m["measured: the pipeline's cost (Postgres cost rows)"]
    assert per_m["measured above the floor"] == measured - 4_725 > 0

    # The gap, by cause: only the cache writes; each part priced from the run's tokens.
    gap = by_first_column(rows(doc, "(a) Documents: why"))
    gap_usd = {k: _money(v["per 1 M documents"]) for k, v in gap.items()}
    writes = gap["prompt-cache writes instead of reads (premium: write - read price)"]
    written = writes["tokens in the run"]
    assert written == 100 * mean["  written to the prompt cache"]
    assert _money(writes["per 1 M documents"]) == (
        written * (Decimal("3.75") - Decimal("0.30")) / 2 * 10_000 / 1_000_000
    )
    assert gap_usd["other (answers off the batch path, 1-hour cache writes)"] == 0
    causes = [v for k, v in gap_usd.items() if k != "total above the floor"]
    assert sum(causes) == gap_usd["total above the floor"] == measured - 4_725
    # Independently of the report's own arithmetic: the cost rows' sum x 10,000 is what
    # 100 batch documents cost at catalog prices (written once, read 100 x 1,500 - written).
    read = 100 * 1500 - written
    tokens_cost = (
        100 * 500 * Decimal(3) + 100 * 500 * Decimal(15)
        + read * Decimal("0.30") + written * Decimal("3.75")
    ) / 2 / 1_000_000  # fmt: skip
    assert measured == tokens_cost * 10_000

    levers = {
        r["lever"]: _money(r["per 1 M documents"]) for r in rows(doc, "(a) Documents: savings")
    }
    assert set(levers) == set(LEVERS)
    assert sum(levers.values()) == 13_500 - measured  # the levers telescope exactly
    assert levers["batch"] == measured  # a 50% discount saves what is paid
    assert levers["prompt_cache"] > 0
    assert any("100 of 100 documents answered (batch/ok 100)" in n for n in doc["notes"])

    # (b) the coaching mix and its savings by lever.
    by_kind = rows(doc, "(b) Coaching chats: answers")
    assert sum(r["answers"] for r in by_kind) == 40
    chat_costs = by_first_column(rows(doc, "(b) Coaching chats: cost"))
    baseline = _money(chat_costs["baseline (requested model, real time, no caching)"]["USD"])
    saved = sum(_money(chat_costs[f"saved by {lever}"]["USD"]) for lever in LEVERS)
    assert baseline - saved == _money(chat_costs["cost"]["USD"])
    # The answers on llm.responses and the cost rows in Postgres tell the same story.
    assert sum(_money(r["cost"]) for r in by_kind) == _money(chat_costs["cost"]["USD"])
    assert sum(_money(r["baseline"]) for r in by_kind) == baseline
    assert _money(chat_costs["saved by batch"]["USD"]) == 0  # chats are immediate
    assert _money(chat_costs["saved by pattern"]["USD"]) > 0  # trivial chats
