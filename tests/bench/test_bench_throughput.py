"""``frugalflow bench throughput`` at a tiny scale on the suite's Apache Kafka: every request
answered on the path it asked for, the ceiling measured in the same run, figures present
and consistent, and nothing left behind (topics, scratch schema)."""

from __future__ import annotations

import pytest

from app.cli import main
from tests.bench.support import bench_schemas, bench_topics, by_first_column, rows, run_json


def test_throughput_measures_both_paths_and_the_ceiling(
    bench_env: None, kafka_bootstrap: str, postgres_dsn: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    topics_before, schemas_before = bench_topics(kafka_bootstrap), bench_schemas(postgres_dsn)
    doc = run_json(capsys, "throughput", "--batch", "40", "--immediate", "30",
                   "--passthrough", "300")  # fmt: skip

    assert doc["complete"] is True
    assert doc["parameters"]["batch requests"] == 40
    assert doc["parameters"]["broker"] == "kafka"
    phases = by_first_column(rows(doc, "Throughput"))
    assert set(phases) == {"batch path", "immediate path", "passthrough ceiling"}
    for name, sent in (("batch path", 40), ("immediate path", 30), ("passthrough ceiling", 300)):
        phase = phases[name]
        assert phase["sent"] == phase["answered"] == sent
        assert phase["elapsed s"] > 0 and phase["req/s"] > 0
        # elapsed is printed to the millisecond: the rate must agree within that rounding
        elapsed, half_ms = phase["elapsed s"], 0.0005
        assert sent / (elapsed + half_ms) * 0.99 <= phase["req/s"]
        assert phase["req/s"] <= sent / max(elapsed - half_ms, 1e-9) * 1.01
        assert phase["req/s per worker"] == phase["req/s"]  # one worker
        assert phase["CPU s"] is not None and phase["peak RSS MiB"] > 0
    answers = {(r["phase"], r["path/status"]): r["n"] for r in rows(doc, "Answers")}
    assert answers == {
        ("batch path", "batch/ok"): 40,
        ("immediate path", "immediate/ok"): 30,
        ("passthrough ceiling", "copied/ok"): 300,
    }
    assert any("of the raw passthrough ceiling" in note for note in doc["notes"])
    assert doc["machine"]["cores"].isdigit() and doc["machine"]["python"].startswith("CPython")

    assert bench_schemas(postgres_dsn) == schemas_before  # the scratch schema was dropped
    assert bench_topics(kafka_bootstrap) <= topics_before  # the run's topics were deleted


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "-1"], "argument --batch: must be at least 0, got -1"),
        (["--immediate", "many"], "argument --immediate: expected a whole number, got 'many'"),
        (["--timeout", "0"], "argument --timeout: must be a finite number above 0, got 0"),
    ],
)
def test_bad_arguments_exit_2_with_one_error_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "throughput", *args])
    assert exit_info.value.code == 2
    errors = [
        line for line in capsys.readouterr().err.splitlines() if line.startswith("frugalflow:")
    ]
    assert errors == [f"frugalflow: {message}"]


def test_nothing_to_measure_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "throughput", "--batch", "0", "--immediate", "0", "--passthrough", "0"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "frugalflow: nothing to measure: --batch, --immediate and --passthrough are all 0"
    )
