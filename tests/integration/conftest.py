"""Fixtures shared by the end-to-end tests (``faults``: the shared emulator's knobs, put
back after the test; a module may define its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.harness import Deployment, EmulatorFaults


@pytest.fixture
def deployment(
    kafka_bootstrap: str, postgres_dsn: str, emulator_url: str, isolated_prefix: str, tmp_path: Path
) -> Iterator[Deployment]:
    """An isolated deployment (own topics and consumer group); its workers stop afterwards."""
    d = Deployment(kafka_bootstrap, postgres_dsn, emulator_url, isolated_prefix, tmp_path)
    yield d
    d.stop_all()


@pytest.fixture
async def faults(emulator_url: str) -> AsyncIterator[EmulatorFaults]:
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as client:
        changed = EmulatorFaults(client)
        try:
            yield changed
        finally:
            await changed.restore()
