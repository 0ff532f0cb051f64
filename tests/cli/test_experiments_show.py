"""``frugalflow experiments show ID`` against a real Postgres: the admin API's analysis."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import cast

import pytest

from frugalflow.cli import main
from frugalflow.experiments import Experiment, ExperimentIn, FeedbackEvent, Variant, store
from frugalflow.experiments.analysis import analyze_stored
from frugalflow.experiments.models import Kind
from frugalflow.sink.store import CostStore
from tests.cli.test_reports_cli import UNREACHABLE


def _setup(dsn: str, tenant: str) -> Experiment:
    """An experiment with 120 impressions per variant: 12 vs 36 conversions."""

    async def go() -> Experiment:
        s = CostStore(dsn)
        await s.start()
        try:
            variants = [Variant(name="control", weight=1), Variant(name="cheap", weight=1)]
            experiment = await store.create(
                s.pool, ExperimentIn(name="cli-show", tenant=tenant, variants=variants)
            )
            now = datetime.now(UTC)
            events = [
                FeedbackEvent(event_id=f"{experiment.id}-{variant}-{kind}-{i}",
                              experiment_id=experiment.id, variant=variant, user_id=f"u{i}",
                              tenant_id=tenant, kind=kind, value=1.0, occurred_at=now)
                for variant, converted in (("control", 12), ("cheap", 36))
                for kind, count in cast(list[tuple[Kind, int]],
                                        [("impression", 120), ("conversion", converted)])
                for i in range(count)
            ]  # fmt: skip
            await store.insert_outcomes(s.pool, events)
            return experiment
        finally:
            await s.close()

    return asyncio.run(go())


def _api_analysis(dsn: str, experiment: Experiment) -> dict[str, object]:
    async def go() -> dict[str, object]:
        s = CostStore(dsn)
        await s.start()
        try:
            return (await analyze_stored(s.pool, experiment)).model_dump(mode="json")
        finally:
            await s.close()

    return asyncio.run(go())


def test_show_prints_the_analysis(
    db_env: str, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    experiment = _setup(db_env, tenant)
    assert main(["experiments", "show", experiment.id]) == 0
    out = capsys.readouterr().out
    assert f"Experiment {experiment.id} (cli-show), tenant {tenant}, draft" in out
    assert "conversion (two_proportion_z), winner: cheap" in out
    assert "adoption (two_proportion_z), winner: -" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("control ", "cheap "))]
    control, cheap = rows[:2]  # the first table: conversion
    assert cheap == ["cheap", "120", "30.0%", "200.0%", cheap[4], "yes"]
    assert float(cheap[4]) < 0.05
    assert control == ["control", "120", "10.0%", "-", "-", "no"]

    assert main(["experiments", "show", experiment.id, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == _api_analysis(db_env, experiment)  # the API's function, the API's document
    conversion = doc["metrics"][0]
    assert conversion["winner"] == "cheap" and conversion["variants"][1]["significant"]
    assert conversion["variants"][1]["p_value"] < 0.05


def test_show_unknown_id_exits_2(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiments", "show", "exp_nope"]) == 2
    assert capsys.readouterr().err.strip() == "frugalflow: no experiment 'exp_nope'"


def test_show_unreachable_postgres_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FRUGALFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    assert main(["experiments", "show", "exp_x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("frugalflow: cannot reach Postgres at DATABASE_URL")
    assert "s3cret-pw" not in err


def test_experiments_list_still_works_without_a_subcommand(db_env: str) -> None:
    assert main(["experiments", "--json"]) == 0
