"""Reading a bench's JSON report, and what a bench may leave behind (nothing)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from frugalflow.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """``frugalflow bench ARGS --json``: exit 0 and its JSON document."""
    code = main(["bench", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document: dict[str, Any] = json.loads(captured.out)
    return document


def rows(document: dict[str, Any], section_prefix: str) -> list[dict[str, Any]]:
    matches = [v for k, v in document["sections"].items() if k.startswith(section_prefix)]
    assert len(matches) == 1, (
        f"no single section {section_prefix!r} in {list(document['sections'])}"
    )
    return list(matches[0])


def by_first_column(section: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(next(iter(row.values()))): row for row in section}


async def _bench_topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {t for t in await admin.list_topics() if t.startswith("bench-")}
    finally:
        await admin.close()


def bench_topics(bootstrap: str) -> set[str]:
    return asyncio.run(_bench_topics(bootstrap))


async def _bench_schemas(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        found = await conn.fetch(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'bench\\_%'"
        )
        return {r["schema_name"] for r in found}
    finally:
        await conn.close()


def bench_schemas(dsn: str) -> set[str]:
    return asyncio.run(_bench_schemas(dsn))
