"""``frugalflow replay`` through the real pipeline: the suite's Apache Kafka and Postgres,
the emulator and a worker started by ``LocalStack``. Replaying twice restarts a worker in
the same consumer group: the second run only passes if no record published after the
restart is lost (the stack waits for the worker's ``/ready``)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import frugalflow.demo.stack
from frugalflow.cli import main


def _request(i: int) -> dict[str, object]:
    return {
        "event_type": "NEW_RECORD",
        "request_id": f"req-{i}",
        "tenant_id": "replay-acme" if i % 2 else "replay-globex",
        "system": "You are a careful assistant. " * 20,
        "messages": [{"role": "user", "content": f"Question number {i}?"}],
        "max_tokens": 50,
        "model": "claude-sonnet-4-6" if i % 2 else "gpt-4o-mini",
        "priority": "batch" if i % 3 == 0 else "immediate",
        "use_case": "replay-test",
    }


def _workload(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_replay_answers_every_request(
    kafka_bootstrap: str,
    postgres_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.delenv("FRUGALFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", postgres_dsn)
    workload = _workload(tmp_path / "w.jsonl", [json.dumps(_request(i)) for i in range(10)])

    assert main(["replay", str(workload), "--json", "--timeout", "180"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["complete"] and doc["requests"] == doc["answered"] == 10
    assert doc["run_id"].startswith("replay-")
    assert doc["answers"].get("batch/ok", 0) == 4  # requests 0, 3, 6, 9
    assert doc["cost_rows"] == 10
    assert Decimal(doc["after_usd"]) < Decimal(doc["before_usd"])
    levers = sum((Decimal(v) for v in doc["levers"].values()), Decimal(0))
    assert levers == Decimal(doc["savings_usd"])
    assert "10/10 answers" in captured.err  # stderr is not a TTY: plain progress lines

    # The same file again is a new run, not deduplicated against the first.
    assert main(["replay", str(workload), "--baseline-model", "claude-opus-4-1"]) == 0
    out = capsys.readouterr().out
    assert "10 of 10 requests answered" in out
    assert "baseline on claude-opus-4-1 vs requested" in out and "COMPLETE" in out


def test_malformed_line_exits_2_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stack must not start for a bad workload")

    monkeypatch.setattr(frugalflow.demo.stack, "LocalStack", never)
    bad = _request(2)
    del bad["messages"]
    lines = [json.dumps(_request(1)), json.dumps(_request(0)), json.dumps(bad)]
    workload = _workload(tmp_path / "bad.jsonl", lines)
    assert main(["replay", str(workload)]) == 2
    err = capsys.readouterr().err
    assert f"{workload}:3: messages: Field required" in err

    _workload(workload, [json.dumps(_request(1)), "{not json"])
    assert main(["replay", str(workload)]) == 2
    assert f"{workload}:2: not JSON" in capsys.readouterr().err

    _workload(workload, [json.dumps(_request(1)), json.dumps(_request(1))])
    assert main(["replay", str(workload)]) == 2
    assert "request_id 'req-1' repeats line 1" in capsys.readouterr().err

    assert main(["replay", str(workload), "--baseline-model", "no-such-model"]) == 2
    assert "--baseline-model" in capsys.readouterr().err
