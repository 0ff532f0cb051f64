"""``FRUGALFLOW_PROFILE_OUT``: the worker's profile, saved at exit with its top functions."""

from __future__ import annotations

import asyncio
import pstats
from pathlib import Path

import pytest

from frugalflow.worker_profile import PROFILE_ENV, profiled


async def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += sum(range(200))
        if i % 100 == 0:
            await asyncio.sleep(0)
    return total


def busy_coroutine_work() -> int:
    return asyncio.run(_spin(3000))


def test_without_the_variable_nothing_is_profiled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    with profiled():
        busy_coroutine_work()
    assert list(tmp_path.iterdir()) == []


def test_the_profile_and_its_summary_are_written_at_exit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "worker.pstat"
    monkeypatch.setenv(PROFILE_ENV, str(target))
    with profiled():
        busy_coroutine_work()
    stats = pstats.Stats(str(target))
    assert any(name == "_spin" for (_, _, name) in stats.stats)  # type: ignore[attr-defined]
    summary = (tmp_path / "worker.pstat.txt").read_text()
    assert summary.startswith("worker CPU profiled: ")
    assert "top 40 by own time:" in summary and "_spin" in summary
