"""Fault decisions: which call fails, hangs, or which batch line errors.

Immediate calls roll a ``random.Random(seed)``, so a given sequence of calls gets the same
faults on every run; ``fail_next_n`` gives tests an exact, order-free alternative. Batch
line errors hash (seed, custom_id) instead, so they do not depend on processing order.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Literal

from frugalflow.emulator.config import EmulatorConfig


@dataclass(frozen=True, slots=True)
class Fault:
    kind: Literal["error", "timeout"]
    status: int = 0


class FaultInjector:
    def __init__(self, seed: int | None) -> None:
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        self._rng = random.Random(seed)
        self._cycle = 0

    @staticmethod
    def eligible(config: EmulatorConfig, endpoint: str) -> bool:
        return "*" in config.fault_endpoints or endpoint in config.fault_endpoints

    def decide(self, config: EmulatorConfig) -> tuple[Fault | None, int]:
        """The fault for one eligible call, and the new ``fail_next_n`` to store."""
        statuses = config.error_statuses or [500]
        if config.fail_next_n > 0:
            status = statuses[self._cycle % len(statuses)]
            self._cycle += 1
            return Fault("error", status), config.fail_next_n - 1
        # Always roll both dice so the sequence does not shift when one rate changes to 0.
        timeout_roll = self._rng.random()
        error_roll = self._rng.random()
        status = self._rng.choice(statuses)
        if timeout_roll < config.timeout_rate:
            return Fault("timeout"), 0
        if error_roll < config.error_rate:
            return Fault("error", status), 0
        return None, 0


def batch_line_errors(config: EmulatorConfig, custom_id: str) -> bool:
    """Whether this batch request fails (explicit list, or hashed against batch_error_rate)."""
    if custom_id in config.batch_error_custom_ids:
        return True
    if config.batch_error_rate <= 0.0:
        return False
    digest = hashlib.sha256(f"{config.seed}:{custom_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < config.batch_error_rate
