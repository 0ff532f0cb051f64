"""``frugalflow bench cost``: the reference arithmetic (exact ``Decimal``), the workloads'
exact shapes, and a tiny run whose figures must add up to the cent (to the 1e-10 dollar)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from app.bench import workloads
from app.bench.cost import per_million, reference_costs, shape_costs
from app.cli import main
from app.costing.catalog import price_of
from app.emulator.tokens import MESSAGE_OVERHEAD_TOKENS, REQUEST_OVERHEAD_TOKENS, text_tokens
from app.reports.rollups import LEVERS
from tests.bench.support import by_first_column, rows, run_json


def test_reference_figures_come_from_the_catalog() -> None:
    price = price_of("claude-sonnet-4-5")
    assert (price.input, price.output) == (Decimal("0.000003"), Decimal("0.000015"))
    reference = reference_costs(price)
    assert reference.standard == Decimal(13_500)
    assert reference.floor == Decimal(4_725)
    # Without a cached prefix the floor is the batch discount alone.
    plain = shape_costs(price, input_tokens=2000, cached_tokens=0, output_tokens=500)
    assert plain.floor == Decimal(6_750)


def test_per_million_is_exact_and_refuses_inexact_scales() -> None:
    assert per_million(Decimal("1.2345678901"), 1000) == Decimal("1234.5678901")
    assert per_million(Decimal("0.0000000003"), 3125) == Decimal("0.000000096")
    with pytest.raises(ValueError, match="does not divide"):
        per_million(Decimal(1), 3)


def test_documents_have_the_exact_pipeshub_shape_in_emulator_tokens() -> None:
    (doc,) = workloads.document_requests("run", 1, model="claude-sonnet-4-5")
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

    shape = by_first_column(rows(doc, "(a) Documents: tokens"))
    mean = {k: Decimal(v["measured (mean)"]) for k, v in shape.items()}
    assert mean["prompt (all input)"] == 2000
    assert mean["  uncached"] == 500
    assert mean["  read from the prompt cache"] + mean["  written to the prompt cache"] == 1500
    assert mean["  written to the prompt cache"] > 0  # the first document wrote the prefix
    assert 12 <= mean["output"] <= 59  # the emulator's answer lengths

    costs = {
        k: _money(v["per 1 M documents"])
        for k, v in by_first_column(rows(doc, "(a) Documents: cost")).items()
    }
    assert costs["reference standard: real time, no caching"] == 13_500
    assert costs["reference floor: batch + 1,500-token prefix cached"] == 4_725
    measured = costs["measured: the pipeline's cost (Postgres cost rows)"]
    standard = costs["measured shape, standard (the run's recorded baseline)"]
    floor = costs["measured shape, floor (batch + every cached token read)"]
    assert floor <= measured < standard
    levers = {
        r["lever"]: _money(r["per 1 M documents"]) for r in rows(doc, "(a) Documents: savings")
    }
    assert set(levers) == set(LEVERS)
    assert sum(levers.values()) == standard - measured  # the levers telescope exactly
    assert levers["batch"] > 0 and levers["prompt_cache"] > 0
    assert any("100 of 100 documents answered (batch/ok 100)" in n for n in doc["notes"])

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
