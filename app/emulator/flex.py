"""The flex service tier: slower answers, and refusals when "capacity" runs out.

A chat completion asking ``service_tier: "flex"`` waits ``flex_latency_ms`` more, and is
refused with 429 ``resource_unavailable`` (with ``retry-after``) for the next
``flex_refuse_next_n`` flex calls, else at ``flex_refusal_rate`` (the state's seeded
dice). A served flex call reports ``service_tier: "flex"``, so it bills at flex prices.
"""

from __future__ import annotations

import asyncio

from frugalflow.emulator.errors import ApiError
from frugalflow.emulator.state import EmulatorState

REFUSAL = "Resource unavailable: the flex tier has no capacity for this request; retry later"


async def admit_flex(state: EmulatorState) -> None:
    """Wait like the slow tier, or raise the refusal."""
    config = state.config
    roll = state.flex_dice.random()  # rolled every time: the sequence does not shift
    refuse = config.flex_refuse_next_n > 0 or roll < config.flex_refusal_rate
    if config.flex_refuse_next_n > 0:
        state.update_config({"flex_refuse_next_n": config.flex_refuse_next_n - 1})
    state.stats.cache["flex_refused" if refuse else "flex_served"] += 1
    if refuse:
        raise ApiError(429, REFUSAL, code="resource_unavailable",
                       error_type="resource_unavailable",
                       retry_after_s=config.retry_after_s)  # fmt: skip
    if config.flex_latency_ms:
        await asyncio.sleep(config.flex_latency_ms / 1000)
