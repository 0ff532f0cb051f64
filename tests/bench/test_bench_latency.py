"""``frugalflow bench latency`` at a tiny scale: every tick answered on the immediate path,
the direct and pipeline series measured on the same ticks, and the added latency
consistent with them."""

from __future__ import annotations

import importlib.util

import pytest

from tests.bench.support import by_first_column, rows, run_json


def test_latency_pairs_each_pipeline_answer_with_a_direct_call(
    bench_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = run_json(capsys, "latency", "--requests", "20", "--rate", "40", "--latency-ms", "20")

    assert doc["complete"] is True
    assert doc["parameters"]["emulator latency"] == "20 ms"
    series = by_first_column(rows(doc, "Latency in ms"))
    direct, pipeline = series["direct SDK call"], series["pipeline (immediate path)"]
    added = series["added by the pipeline"]
    assert direct["n"] == pipeline["n"] == added["n"] == 20  # warm-up ticks not counted
    for row in (direct, pipeline, added):
        assert row["P50"] <= row["P95"] <= row["P99"] <= row["max"]
    # The emulator's fixed latency is in every call, direct or through the pipeline.
    assert direct["P50"] >= 20 and pipeline["P50"] >= 20
    # Per-tick differences: their mean is the difference of the means (rounding aside).
    assert added["mean"] == pytest.approx(pipeline["mean"] - direct["mean"], abs=0.15)
    assert rows(doc, "Answers") == [{"path/status": "immediate/ok", "n": 20}]

    litellm_missing = importlib.util.find_spec("litellm") is None
    skipped = [n for n in doc["notes"] if n.startswith("LiteLLM proxy: skipped")]
    assert bool(skipped) == litellm_missing
    if litellm_missing:
        assert "litellm is not installed" in skipped[0]
        assert "LiteLLM proxy" not in series
