"""``status``, ``optimize``, ``export`` and ``experiments`` against a real Postgres."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from frugalflow.cli import main
from frugalflow.events import Path as AnswerPath
from tests.cli.conftest import execute, insert
from tests.reports.factories import event

UNREACHABLE = "postgresql://frugal:s3cret-pw@127.0.0.1:1/nowhere"


def _now() -> datetime:
    return datetime.now(UTC)


def test_status_table_and_json(
    db_env: str, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    insert(
        db_env,
        [
            event(tenant, occurred_at=_now(), cost="0.0100", baseline="0.0200",
                  savings={"batch": "0.0100"}),
            event(tenant, occurred_at=_now(), cost="0.0050", baseline="0.0050"),
            event(tenant, occurred_at=_now(), provider="openai", model="gpt-4o-mini",
                  cost="0.0010", baseline="0.0010"),
        ],
    )  # fmt: skip
    execute(
        db_env,
        "INSERT INTO budgets (tenant_id, daily_limit_usd, monthly_limit_usd) VALUES ($1, 1, 10)",
        tenant,
    )
    assert main(["status", "--tenant", tenant]) == 0
    out = capsys.readouterr().out
    assert f"Tenant {tenant}" in out
    assert "spend today" in out and "month forecast" in out
    assert "This month by provider:" in out and "This month by model:" in out
    budget_line = next(line for line in out.splitlines() if line.startswith("tenant "))
    assert "$0.016000" in budget_line and "1.6%" in budget_line  # $0.016 of $1.00 a day
    provider_rows = [line.split() for line in out.splitlines() if line.startswith("anthropic")]
    assert provider_rows == [["anthropic", "2", "$0.015000", "$0.025000", "$0.010000", "40.0%"]]

    assert main(["status", "--tenant", tenant, "--days", "7", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["window_days"] == 7
    (status,) = doc["tenants"]
    assert status["tenant"] == tenant
    assert Decimal(status["today_usd"]) == Decimal("0.016")
    assert Decimal(status["month_to_date_usd"]) == Decimal("0.016")
    (budget,) = status["budgets"]
    assert Decimal(budget["daily_used_pct"]) == Decimal("1.60")
    assert Decimal(budget["monthly_used_pct"]) == Decimal("0.16")
    assert [r["key"]["provider"] for r in status["by_provider"]["rows"]] == ["anthropic", "openai"]
    assert {r["key"]["model"] for r in status["by_model"]["rows"]} == {
        "claude-sonnet-4-5",
        "gpt-4o-mini",
    }
    assert Decimal(status["forecast"]["daily_average_usd"]) == Decimal("0.016") / 7


def test_optimize_lists_recommendations_in_order(
    db_env: str, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    insert(
        db_env,
        [
            event(tenant, occurred_at=_now(), path=AnswerPath.IMMEDIATE, cost="0.50")
            for _ in range(20)
        ],
    )
    assert main(["optimize", "--tenant", tenant, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # the factory's claude-sonnet-4-5 is retired: its migration comes first, whatever it saves
    first, *rest = doc["recommendations"]
    assert first["kind"] == "model_migration" and first["model"] == "claude-sonnet-4-5"
    savings = [Decimal(r["estimated_monthly_saving_usd"]) for r in rest]
    assert savings and savings == sorted(savings, reverse=True)
    assert "batch_path" in {r["kind"] for r in doc["recommendations"]}
    assert Decimal(doc["total_estimated_monthly_saving_usd"]) == sum(savings)

    assert main(["optimize", "--tenant", tenant]) == 0
    out = capsys.readouterr().out
    assert "batch_path" in out and f"{tenant} / chat / *" in out
    assert f"Total: {len(doc['recommendations'])} recommendation" in out


def test_export_streams_csv_to_a_file_and_stdout(
    db_env: str, tenant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    insert(db_env, [event(tenant, cost=f"0.00{i}") for i in range(1, 6)])
    target = tmp_path / "costs.csv"
    args = ["export", "--start", "2026-03-10", "--end", "2026-03-10", "--tenant", tenant]
    assert main([*args, "--output", str(target)]) == 0
    assert "exported 5 cost events" in capsys.readouterr().err
    rows = list(csv.DictReader(target.open()))
    assert {r["tenant_id"] for r in rows} == {tenant}
    assert sorted(Decimal(r["cost_usd"]) for r in rows) == [
        Decimal(f"0.00{i}") for i in range(1, 6)
    ]

    assert main(args) == 0
    streamed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert streamed == rows


def test_export_rejects_bad_dates(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["export", "--start", "2026-02-30", "--end", "2026-03-01"])
    assert info.value.code == 2
    assert "expected a date YYYY-MM-DD, got '2026-02-30'" in capsys.readouterr().err
    assert main(["export", "--start", "2026-03-02", "--end", "2026-03-01"]) == 2
    assert "--start 2026-03-02 is after --end 2026-03-01" in capsys.readouterr().err


def test_experiments_list(db_env: str, tenant: str, capsys: pytest.CaptureFixture[str]) -> None:
    execute(
        db_env,
        "INSERT INTO experiments (id, name, tenant_id, status, variants)"
        " VALUES ($1, $2, $3, $4, $5)",
        f"exp-{tenant}", "cheaper-model", tenant, "running",
        json.dumps([{"name": "control"}, {"name": "haiku"}]),
    )  # fmt: skip
    assert main(["experiments"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if tenant in line)
    assert line.split() == [
        f"exp-{tenant}",
        "cheaper-model",
        tenant,
        "running",
        "control,",
        "haiku",
    ]
    assert main(["experiments", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"id": f"exp-{tenant}", "status": "running"}.items() <= next(
        e for e in doc if e["tenant_id"] == tenant
    ).items()


@pytest.mark.parametrize("command", [["status"], ["optimize"], ["experiments"]])
def test_unreachable_postgres_exits_1_without_the_password(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FRUGALFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    assert main(command) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("frugalflow: cannot reach Postgres at DATABASE_URL")
    assert captured.err.count("\n") == 1
    assert "s3cret" not in captured.out + captured.err


def test_exit_codes_as_a_subprocess(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if "DATABASE_URL" not in k}
    env["DATABASE_URL"] = UNREACHABLE

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "frugalflow.cli", *args], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    down = run("status", "--json")
    assert down.returncode == 1 and "DATABASE_URL" in down.stderr
    assert "s3cret" not in down.stdout + down.stderr
    assert run("status", "--days", "0").returncode == 2
    assert run("export", "--start", "yesterday", "--end", "2026-01-01").returncode == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_type": "NEW_RECORD"}\n')
    replay = run("replay", str(bad))
    assert replay.returncode == 2 and f"{bad}:1:" in replay.stderr


def test_api_command_is_wired(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[object] = []
    monkeypatch.setattr("frugalflow.api.main_api", lambda settings: called.append(settings) or 0)
    assert main(["api"]) == 0 and len(called) == 1
