"""Shared by the emulator and provider-adapter tests: one emulator per test module.

The fixtures are re-exported by ``tests/emulator/conftest.py`` and
``tests/providers/conftest.py``; the helpers are imported by the test modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from frugalflow.emulator import EmulatorConfig, EmulatorServer


@pytest.fixture(scope="module")
async def emulator() -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(EmulatorConfig(batch_delay_s=0.2, retry_after_s=0.2)) as server:
        yield server


@pytest.fixture(autouse=True)
async def _fresh_state(emulator: EmulatorServer) -> None:
    await emulator.state.reset()


@pytest.fixture
async def http(emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emulator.base_url, timeout=10.0) as raw:
        yield raw


async def configure(http: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    """Change the emulator's config; returns the whole config after the change."""
    response = await http.put("/_emulator/config", json=changes)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def stats(http: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await http.get("/_emulator/stats")).json()
    return body
