"""``frugalflow bench throughput`` at a tiny scale on the suite's Apache Kafka: every request
answered on the path it asked for, the ceiling measured in the same run, figures present
and consistent, and nothing left behind (topics, scratch schema)."""

from __future__ import annotations

import pytest

from frugalflow.cli import main
from tests.bench.support import bench_schemas, bench_topics, by_first_column, rows, run_json


def test_throughput_measures_both_paths_and_the_ceiling(
    bench_env: None, kafka_bootstrap: str, postgres_dsn: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    topics_before, schemas_before = bench_topics(kafka_bootstrap), bench_schemas(postgres_dsn)
    doc = run_json(capsys, "throughput", "--batch", "40", "--immediate", "30",
                   "--slow-provider", "60", "--passthrough", "300", "--faust-floor", "200",
                   "--workers", "2")  # fmt: skip

    assert doc["complete"] is True
    assert doc["parameters"]["batch requests"] == 40
    assert doc["parameters"]["broker"] == "kafka"
    assert doc["parameters"]["worker"].startswith("2 processes in one group")
    phases = by_first_column(rows(doc, "Throughput"))
    slow = "immediate, provider at 50 ms"
    assert set(phases) == {
        "batch path", "immediate path", slow, "passthrough ceiling", "Faust floor"
    }  # fmt: skip
    for name, sent, workers in (
        ("batch path", 40, 2), ("immediate path", 30, 2), (slow, 60, 2),
        ("passthrough ceiling", 300, 1), ("Faust floor", 200, 1),
    ):  # fmt: skip
        phase = phases[name]
        assert phase["sent"] == phase["answered"] == sent
        assert phase["elapsed s"] > 0 and phase["req/s"] > 0
        # elapsed is printed to the millisecond: the rate must agree within that rounding
        elapsed, half_ms = phase["elapsed s"], 0.0005
        assert sent / (elapsed + half_ms) * 0.99 <= phase["req/s"]
        assert phase["req/s"] <= sent / max(elapsed - half_ms, 1e-9) * 1.01
        assert phase["workers"] == workers
        assert phase["req/s per worker"] == pytest.approx(phase["req/s"] / workers, abs=0.051)
        assert phase["CPU s"] is not None and phase["peak RSS MiB"] > 0
        assert phase["CPU ms/req"] == pytest.approx(1000 * phase["CPU s"] / sent, abs=0.02)
    # 60 calls of 50 ms at once: all in flight together, not one after another (3 s).
    assert phases[slow]["elapsed s"] < 60 * 0.05
    answers = {(r["phase"], r["path/status"]): r["n"] for r in rows(doc, "Answers")}
    assert answers == {
        ("batch path", "batch/ok"): 40,
        ("immediate path", "immediate/ok"): 30,
        (slow, "immediate/ok"): 60,
        ("passthrough ceiling", "copied/ok"): 300,
        ("Faust floor", "floor/ok"): 200,
    }
    assert any("of the raw passthrough ceiling" in note for note in doc["notes"])
    assert any(note.startswith("batch path: ") and note.endswith(" of the Faust floor")
               for note in doc["notes"])  # fmt: skip
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
    code = main(["bench", "throughput", "--batch", "0", "--immediate", "0", "--passthrough", "0",
                 "--slow-provider", "0", "--faust-floor", "0"])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "frugalflow: nothing to measure: --batch, --immediate, --slow-provider, --passthrough "
        "and --faust-floor are all 0"
    )


def test_more_workers_than_partitions_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRUGALFLOW_PARTITIONS", "3")
    assert main(["bench", "throughput", "--workers", "4"]) == 2
    assert capsys.readouterr().err.strip() == (
        "frugalflow: --workers 4 is more than the topics' 3 partitions (FRUGALFLOW_PARTITIONS): "
        "the extra workers would get none"
    )
