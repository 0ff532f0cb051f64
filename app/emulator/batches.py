"""Shared batch machinery: stored batch records, the delayed runner, and outcome planning.

A batch is processed once, ``batch_delay_s`` after creation (or right away when cancelled),
with the same per-request logic as the immediate endpoints, so caching and token counts
match. The provider modules own the wire shapes; this module owns timing and fate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from frugalflow.emulator.config import EmulatorConfig
from frugalflow.emulator.faults import batch_line_errors

log = logging.getLogger(__name__)

BATCH_WINDOW_S = 24 * 3600
Outcome = Literal["process", "error", "expired", "canceled"]


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def rfc3339(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def plan_outcomes(
    config: EmulatorConfig, custom_ids: list[str], *, canceled: bool
) -> list[Outcome]:
    """Each request's fate, in input order."""
    outcomes: list[Outcome] = []
    for index, custom_id in enumerate(custom_ids):
        if canceled:
            outcomes.append("canceled")
        elif config.batch_expire and index >= config.batch_expire_completed:
            outcomes.append("expired")
        elif batch_line_errors(config, custom_id):
            outcomes.append("error")
        else:
            outcomes.append("process")
    return outcomes


@dataclass
class AnthropicBatch:
    id: str
    requests: list[dict[str, Any]]  # [{"custom_id", "params"}]
    api_version: str  # anthropic-version of the create call: params are checked against it
    created_at: float = field(default_factory=time.time)
    processing_status: str = "in_progress"  # in_progress | canceling | ended
    ended_at: float | None = None
    cancel_initiated_at: float | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class OpenAIBatch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None
    created_at: int = field(default_factory=lambda: int(time.time()))
    status: str = "validating"
    model: str | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] | None = None
    usage: dict[str, Any] | None = None
    timestamps: dict[str, int] = field(default_factory=dict)  # in_progress_at, completed_at...
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class BatchRunner:
    """Owns the background tasks that finish batches; cancelled on reset/shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(
        self,
        delay_s: Callable[[], float],
        wake: asyncio.Event,
        finish: Callable[[], None],
        *,
        start: Callable[[], bool] | None = None,
    ) -> None:
        """Run ``start`` now (False aborts), then ``finish`` after the delay or on wake."""
        task = asyncio.get_running_loop().create_task(self._run(delay_s, wake, finish, start))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(
        delay_s: Callable[[], float],
        wake: asyncio.Event,
        finish: Callable[[], None],
        start: Callable[[], bool] | None,
    ) -> None:
        try:
            await asyncio.sleep(0)  # let the create response go out first
            if start is not None and not start():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay_s())
            finish()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not kill the server silently
            log.exception("emulated batch processing failed")

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
