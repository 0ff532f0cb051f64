"""Helpers for end-to-end tests: a worker process, an upstream producer, output readers."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from frugalflow.bench.runner import scoped_environ
from frugalflow.infra.process import free_port
from frugalflow.infra.worker_process import ChildProcess
from frugalflow.settings import Settings
from frugalflow.topics import apply_topics, load_topics


@dataclass
class Deployment:
    """One isolated FrugalFlow deployment (topic prefix + app id) for one test."""

    bootstrap: str
    dsn: str
    emulator_url: str
    prefix: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: list[ChildProcess] = field(default_factory=list)
    web_ports: dict[str, int] = field(default_factory=dict)

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def env(self) -> dict[str, str]:
        return {
            "FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "FRUGALFLOW_DATABASE_URL": self.dsn,
            "FRUGALFLOW_EMULATOR_URL": self.emulator_url,
            "FRUGALFLOW_TOPIC_PREFIX": self.prefix,
            "FRUGALFLOW_APP_ID": f"{self.prefix}frugalflow",
            "FRUGALFLOW_PARTITIONS": "4",
            "FRUGALFLOW_WINDOW_MAX_SECONDS": "0.5",
            "FRUGALFLOW_BATCH_POLL_INTERVAL_S": "0.5",
            "FRUGALFLOW_BATCH_POLL_MAX_INTERVAL_S": "2",
            "FRUGALFLOW_PROVIDER_TIMEOUT_S": "10",
            "FRUGALFLOW_SESSION_TIMEOUT_S": "8",
            **self.extra_env,
        }

    async def create_topics(self) -> None:
        """Create the deployment's topics as its first worker would (``topics apply``)."""
        with scoped_environ(self.env()):
            settings = Settings()
        report = await apply_topics(settings.kafka_bootstrap_servers, load_topics(settings))
        assert report.exit_code == 0, report.drift

    def start_worker(self, name: str = "w1") -> ChildProcess:
        port = free_port()
        env = {
            **self.env(),
            "FRUGALFLOW_WEB_PORT": str(port),
            "FRUGALFLOW_DATA_DIR": str(self.workdir / name),
        }
        worker = ChildProcess(name, ["worker"], env, self.workdir / f"{name}.log").start()
        worker.wait_http(f"http://127.0.0.1:{port}/ready", timeout=120, need_ok=True)
        self.workers.append(worker)
        self.web_ports[name] = port
        return worker

    def metrics(self, name: str = "w1") -> dict[str, float]:
        """The worker's Prometheus samples, ``'name{labels}' -> value``."""
        url = f"http://127.0.0.1:{self.web_ports[name]}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name_part, _, value = line.rpartition(" ")
                samples[name_part] = float(value)
        return samples

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()

    async def publish(self, records: list[tuple[bytes | None, bytes]]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, max_request_size=4 << 20)
        await producer.start()
        try:
            for key, value in records:
                await producer.send(self.topic("llm.requests"), key=key, value=value)
            await producer.flush()
        finally:
            await producer.stop()

    async def read(
        self, topic: str, *, until: int, timeout: float = 90, settle: float = 1.5
    ) -> list[dict[str, Any]]:
        """Every record of ``topic`` once ``until`` have arrived (plus ``settle`` s for extras)."""
        consumer = AIOKafkaConsumer(
            self.topic(topic), bootstrap_servers=self.bootstrap, group_id=None,
            auto_offset_reset="earliest", enable_auto_commit=False,
            max_partition_fetch_bytes=8 << 20, fetch_max_bytes=16 << 20,
        )  # fmt: skip
        await consumer.start()
        out: list[dict[str, Any]] = []
        deadline, settled_at = time.monotonic() + timeout, None
        try:
            while time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=300)
                for messages in batches.values():
                    out.extend(json.loads(m.value) for m in messages if m.value is not None)
                if len(out) >= until:
                    settled_at = settled_at or time.monotonic() + settle
                    if time.monotonic() >= settled_at:
                        break
        finally:
            await consumer.stop()
        return out

    async def wait_cost_rows(self, like: str, n: int, timeout: float = 30) -> list[asyncpg.Record]:
        """Cost rows for request ids ``LIKE like`` once ``n`` exist (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        rows = await self.cost_rows(like)
        while len(rows) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            rows = await self.cost_rows(like)
        return rows

    async def cost_rows(self, like: str) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetch(
                "SELECT * FROM cost_events WHERE request_id LIKE $1 ORDER BY request_id", like
            )
        except asyncpg.UndefinedTableError:
            return []
        finally:
            await conn.close()


def request(
    request_id: str, tenant: str, *, priority: str = "immediate", model: str = "auto",
    system: str | None = None, content: str = "What is the capital of France?", **extra: Any,
) -> tuple[bytes, bytes]:  # fmt: skip
    body: dict[str, Any] = {
        "event_type": "NEW_RECORD", "request_id": request_id, "tenant_id": tenant,
        "messages": [{"role": "user", "content": content}], "max_tokens": 64,
        "model": model, "priority": priority, **extra,
    }  # fmt: skip
    if system is not None:
        body["system"] = system
    return tenant.encode(), json.dumps(body).encode()


class EmulatorFaults:
    """Changes the shared emulator's config; ``restore`` puts back what was changed."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._saved: dict[str, Any] = {}

    async def set(self, **changes: Any) -> None:
        current = (await self._client.get("/_emulator/config")).json()
        for name in changes:
            self._saved.setdefault(name, current[name])
        response = await self._client.put("/_emulator/config", json=changes)
        assert response.status_code == 200, response.text

    async def restore(self) -> None:
        if self._saved:
            response = await self._client.put("/_emulator/config", json=self._saved)
            assert response.status_code == 200, response.text
            self._saved.clear()

    async def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self._client.get("/_emulator/stats")).json()
        return body

    async def chat_calls(self, route: str = "POST /v1/chat/completions") -> int:
        return int((await self.stats())["requests"].get(route, 0))
