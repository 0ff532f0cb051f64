"""Tenant policies and budgets on live traffic: every worker keeps a fresh snapshot.

``Pipeline.policy`` is a ``PolicySnapshot`` (budgets, policy documents, learning counts)
that a Faust timer replaces every ``FRUGALFLOW_POLICY_REFRESH_S`` (default 2 s) from
Postgres, through its own one-connection pool (the sink's ``CostStore``, which also
applies migrations). Intake only reads it: no I/O per request, and a change made through
the admin API applies within one refresh interval.

At start the first snapshot is loaded before the consumer starts (a service the app
starts ahead of its own), so the first request already sees the stored policies when
Postgres answers within ``STARTUP_TIMEOUT_S``; otherwise the worker starts on the
defaults and the timer catches up. While Postgres is unreachable the last snapshot stays
and a warning is logged, at most once per ``WARN_EVERY_S``. Without a database URL the
snapshot stays empty: default policies, no budgets.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from mode import Service

from frugalflow.pipeline import Pipeline, log
from frugalflow.policy.snapshot import NEVER, PolicySnapshot
from frugalflow.policy.store import load_snapshot
from frugalflow.sink.store import CostStore

STARTUP_TIMEOUT_S = 5.0  # how long a starting worker waits for Postgres
CONNECT_TIMEOUT_S = 5.0
LOAD_TIMEOUT_S = 10.0  # a refresh that hangs (half-open connection) gives up after this
WARN_EVERY_S = 60.0


@dataclass
class PolicyRefresher:
    """Loads snapshots into ``p.policy``; owns the connection it loads them through."""

    p: Pipeline
    store: CostStore | None = None
    failures: int = 0  # refreshes failed since the last success
    _last_warning: float | None = field(default=None, repr=False)

    async def refresh(self, *, timeout_s: float = LOAD_TIMEOUT_S) -> bool:
        """Replace ``p.policy`` with a fresh snapshot; on any trouble keep the last one."""
        try:
            snapshot = await asyncio.wait_for(self._load(), timeout_s)
        except Exception as exc:  # refused, timeout, connection lost, pool closed, bad row...
            self._failed(exc)
            return False
        if self.failures:
            log.info("policies: Postgres answers again after %d failed refresh(es)",
                     self.failures)  # fmt: skip
        self.failures, self._last_warning = 0, None
        self.p.policy = snapshot
        return True

    async def close(self) -> None:
        if self.store is not None:
            store, self.store = self.store, None
            await store.close()

    async def _load(self) -> PolicySnapshot:
        if self.store is None:
            self.store = await self._connect()
        snapshot = await load_snapshot(self.store.pool)
        return snapshot.with_base(self.p.settings.policy_defaults)

    async def _connect(self) -> CostStore:
        url = self.p.settings.database_url
        assert url is not None  # register() starts nothing without one
        store = CostStore(url.get_secret_value(), max_size=1)
        try:
            await asyncio.wait_for(store.start(), CONNECT_TIMEOUT_S)
        except BaseException:
            await store.close()  # a half-open pool must not leak into the next attempt
            raise
        return store

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        now = time.monotonic()
        if self._last_warning is not None and now - self._last_warning < WARN_EVERY_S:
            return
        self._last_warning = now
        loaded_at = self.p.policy.loaded_at
        known = ("the defaults (nothing loaded yet)" if loaded_at == NEVER
                 else f"the policies and budgets loaded at {loaded_at.isoformat()}")  # fmt: skip
        log.warning("policies: Postgres failed (%s; %d refresh(es) in a row); keeping %s",
                    type(exc).__name__, self.failures, known)  # fmt: skip


class FirstLoad(Service):
    """Started by the app before its consumer: the first snapshot, then closing at stop."""

    def __init__(self, refresher: PolicyRefresher) -> None:
        super().__init__()
        self.refresher = refresher

    async def on_start(self) -> None:
        await self.refresher.refresh(timeout_s=STARTUP_TIMEOUT_S)

    async def on_stop(self) -> None:
        await self.refresher.close()


def register(p: Pipeline) -> PolicyRefresher | None:
    """Keep ``p.policy`` fresh; None (and an empty snapshot) without a database URL."""
    if p.settings.database_url is None:
        log.info("policies: no database URL; default policies for every tenant, no budgets")
        return None
    refresher = PolicyRefresher(p)
    p.app.add_dependency(FirstLoad(refresher))

    @p.app.timer(p.settings.policy_refresh_s, name="policy-refresh")
    async def refresh_policies() -> None:
        await refresher.refresh()

    return refresher
