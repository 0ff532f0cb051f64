"""A throw-away deployment for one bench run, on the local stack of ``make demo``.

``bench_stack`` starts ``frugalflow.demo.stack.LocalStack`` (Tansu unless
``KAFKA_BOOTSTRAP_SERVERS`` is set, Postgres from ``DATABASE_URL`` or a local one, the
emulator, one worker process) with three differences, all undone at the end:

* its own topics and consumer group (prefix and app id ``bench-<8 hex>``), so answers,
  table recovery and offsets never mix with real traffic or an earlier run; the topics
  are deleted afterwards on a broker that outlives the run;
* a scratch Postgres schema (``search_path``), dropped afterwards, so synthetic cost rows
  never reach the real ``cost_events`` table;
* always the emulator: API keys are blanked for the run, a bench never bills anyone.

``LocalStack`` reads the worker's settings from the environment it inherits, so the
overrides are set in ``os.environ`` while it starts and restored right after.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import SecretStr

from frugalflow.infra.postgres import ensure_postgres
from frugalflow.infra.process import free_port
from frugalflow.settings import Settings

if TYPE_CHECKING:
    from frugalflow.infra.worker_process import ChildProcess

# Blank means unset (Settings._blank_is_unset): the worker falls back to the emulator.
_KEY_VARIABLES = (
    "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY",
    "FRUGALFLOW_ANTHROPIC_API_KEY", "FRUGALFLOW_OPENAI_API_KEY", "FRUGALFLOW_GEMINI_API_KEY",
)  # fmt: skip


def new_run_id() -> str:
    return f"bench-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def scoped_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Sets (a string) or unsets (None) each variable, and restores all of them after."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def with_search_path(dsn: str, schema: str) -> str:
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}search_path={schema}"


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def scratch_schema(settings: Settings, workdir: Path, run_id: str) -> Iterator[str]:
    """A DSN whose ``search_path`` is a fresh schema (``DATABASE_URL``, else a local server)."""
    configured = settings.database_url.get_secret_value() if settings.database_url else None
    dsn, server = asyncio.run(ensure_postgres(configured, "embedded", workdir / "pg"))
    schema = run_id.replace("-", "_")
    try:
        asyncio.run(_execute(dsn, f"CREATE SCHEMA {schema}"))
        try:
            yield with_search_path(dsn, schema)
        finally:
            asyncio.run(_execute(dsn, f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    finally:
        if server is not None:
            server.stop()


@dataclass
class BenchStack:
    run_id: str
    settings: Settings  # with the run's topic prefix, app id and scratch DSN
    bootstrap: str
    dsn: str
    emulator_url: str
    worker_pids: list[int]  # one per worker process, all in the run's group
    broker: str  # "tansu" or "kafka"
    notes: list[str] = field(default_factory=list)

    @property
    def worker_pid(self) -> int:
        return self.worker_pids[0]

    def topic(self, name: str) -> str:
        return self.settings.topic(name)

    async def create_topics(self, names: list[str]) -> None:
        """Topics of the run's own (deleted with the run's), as the worker's are made."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            partitions, replication = self.settings.partitions, self.settings.replication_factor
            await admin.create_topics([NewTopic(n, partitions, replication) for n in names])
        finally:
            await admin.close()
        await asyncio.sleep(0.5)  # let the new partitions' leaders settle before producing

    def configure_emulator(self, **changes: Any) -> dict[str, Any]:
        """Patch the emulator's live config (``PUT /_emulator/config``)."""
        response = httpx.put(f"{self.emulator_url}/_emulator/config", json=changes, timeout=10)
        response.raise_for_status()
        config: dict[str, Any] = response.json()
        return config


def _external_broker() -> str | None:
    return os.environ.get("FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS") or os.environ.get(
        "KAFKA_BOOTSTRAP_SERVERS"
    )


@contextlib.contextmanager
def bench_stack(
    settings: Settings,
    workdir: Path,
    *,
    pacing: Mapping[str, str] | None = None,
    workers: int = 1,
) -> Iterator[BenchStack]:
    """The local stack on the run's own topics, group and schema; see the module doc.

    ``pacing``: extra ``FRUGALFLOW_*`` variables for the worker and the emulator (window
    length, poll interval, emulated batch delay…). ``workers``: worker processes in the
    run's one group, sharing its partitions.
    """
    from frugalflow.demo.stack import LocalStack

    run_id = new_run_id()
    prefix = f"{settings.topic_prefix}{run_id}."
    with scratch_schema(settings, workdir, run_id) as dsn:
        run_settings = settings.model_copy(
            update={
                "topic_prefix": prefix,
                "app_id": run_id,
                "database_url": SecretStr(dsn),
                "anthropic_api_key": None,
                "openai_api_key": None,
                "gemini_api_key": None,
            }
        )
        env = {
            **{name: "" for name in _KEY_VARIABLES},
            **(pacing or {}),
            "FRUGALFLOW_TOPIC_PREFIX": prefix,
            "FRUGALFLOW_APP_ID": run_id,
        }
        # A port of its own, so a bench never meets ``make demo`` or another bench on 9092.
        local = LocalStack(run_settings, workdir, tansu_port=free_port(), workers=workers)
        with scoped_environ(env):
            local.__enter__()
        try:
            assert local.emulator_url is not None  # keys are blanked: always the emulator
            yield BenchStack(
                run_id=run_id,
                settings=run_settings.model_copy(
                    update={"kafka_bootstrap_servers": local.bootstrap}
                ),
                bootstrap=local.bootstrap,
                dsn=dsn,
                emulator_url=local.emulator_url,
                worker_pids=[_pid(worker) for worker in local.workers],
                broker="kafka" if _external_broker() else "tansu",
                notes=list(local.notes),
            )
        finally:
            local.__exit__(None, None, None)
            if _external_broker():
                asyncio.run(delete_topics(local.bootstrap, (prefix, f"{run_id}-")))


def _pid(worker: ChildProcess) -> int:
    proc = worker.proc
    assert proc is not None  # started: LocalStack waited for its /ready
    return proc.pid


async def delete_topics(bootstrap: str, prefixes: tuple[str, ...]) -> list[str]:
    """Delete every topic whose name starts with one of ``prefixes`` (best effort)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefixes)]
        if names:
            await admin.delete_topics(names)
        return names
    except Exception:  # leftovers of a bench are clutter, not a failure of the bench
        return []
    finally:
        await admin.close()
