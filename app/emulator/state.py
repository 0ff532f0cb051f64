"""All mutable emulator state for one app instance, reachable via ``app[STATE_KEY]``."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from frugalflow.emulator.batches import AnthropicBatch, BatchRunner, OpenAIBatch
from frugalflow.emulator.config import EmulatorConfig
from frugalflow.emulator.faults import FaultInjector
from frugalflow.emulator.file_store import FileStore
from frugalflow.emulator.prompt_cache import AnthropicPromptCache, OpenAIPromptCache
from frugalflow.emulator.stats import Stats


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        # Private copies: runtime updates (and fail_next_n consumption) never touch the
        # caller's object.
        self.initial_config = config.model_copy(deep=True)
        self.config = config.model_copy(deep=True)
        self.faults = FaultInjector(config.seed)
        self.flex_dice = random.Random(config.seed)  # flex refusals (app/emulator/flex.py)
        self.anthropic_cache = AnthropicPromptCache()
        self.openai_cache = OpenAIPromptCache()
        self.stats = Stats(config.request_log_size)
        self.runner = BatchRunner()
        self.anthropic_batches: dict[str, AnthropicBatch] = {}
        self.openai_batches: dict[str, OpenAIBatch] = {}
        self.files = FileStore()
        self.stopping = asyncio.Event()

    def update_config(self, changes: Mapping[str, Any]) -> EmulatorConfig:
        """Partial update (validated). Re-seeds the fault dice when ``seed`` is given."""
        self.config = self.config.updated(changes)
        if "seed" in changes:
            self.faults.reseed(self.config.seed)
            self.flex_dice.seed(self.config.seed)
        self.stats.resize_log(self.config.request_log_size)
        return self.config

    async def reset(self) -> None:
        """Back to the startup config with empty caches, batches, files and stats."""
        await self.runner.cancel_all()
        self.config = self.initial_config.model_copy(deep=True)
        self.faults.reseed(self.config.seed)
        self.flex_dice.seed(self.config.seed)
        self.anthropic_cache.store.clear()
        self.openai_cache.store.clear()
        self.stats = Stats(self.config.request_log_size)
        self.anthropic_batches.clear()
        self.openai_batches.clear()
        self.files.clear()

    async def hang(self, seconds: float) -> None:
        """Sleep like a stuck upstream, but end promptly when the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)


STATE_KEY = web.AppKey("frugalflow_emulator_state", EmulatorState)
