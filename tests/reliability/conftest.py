"""Fixtures of the reliability suite: the integration harness's deployment, emulator control.

Every test here runs real worker processes on real Apache Kafka and Postgres against the
provider emulator (``tests/integration/harness.py``). Tests over about two minutes carry
the ``soak`` marker and run with ``make soak`` instead of ``make test``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.conftest import deployment
from tests.reliability.support import EmulatorControl

__all__ = ["deployment", "emulator"]


@pytest.fixture
async def emulator(emulator_url: str) -> AsyncIterator[EmulatorControl]:
    """The shared emulator; whatever a test changes is put back afterwards."""
    async with httpx.AsyncClient(base_url=emulator_url, timeout=10) as client:
        control = EmulatorControl(client)
        try:
            yield control
        finally:
            await control.restore()
