"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import Deployment


@pytest.fixture
def deployment(
    kafka_bootstrap: str, postgres_dsn: str, emulator_url: str, isolated_prefix: str, tmp_path: Path
) -> Iterator[Deployment]:
    """An isolated deployment (own topics and consumer group); its workers stop afterwards."""
    d = Deployment(kafka_bootstrap, postgres_dsn, emulator_url, isolated_prefix, tmp_path)
    yield d
    d.stop_all()
