"""Batch windows end to end: a worker process, Apache Kafka, Postgres, the emulator.

Windows are an hour long here, so every batch the provider sees was closed by a rule
other than age: size, a deadline, or the drain of a worker in a rebalance or stopping.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import httpx

from frugalflow.providers.ids import safe_custom_id
from tests.integration.harness import Deployment, request

SYSTEM_A = "You are the billing assistant. " * 40
SYSTEM_B = "You are the shipping assistant. " * 40


async def test_windows_close_on_size_deadline_rebalance_and_stop_keeping_prefix_groups(
    deployment: Deployment, emulator_url: str
) -> None:
    run = deployment.prefix.rstrip(".")
    started = time.time() - 1
    deployment.extra_env.update(
        {"FRUGALFLOW_WINDOW_MAX_SECONDS": "3600", "FRUGALFLOW_WINDOW_MAX_REQUESTS": "4"}
    )

    def batch(rid: str, model: str = "gpt-4o-mini", **extra: Any) -> tuple[bytes, bytes]:
        question = f"Question {rid}?"  # all different: no cache answers any of them
        return request(
            f"{run}-{rid}", "tenant-a", priority="batch", model=model, content=question, **extra
        )

    async def answered(n: int) -> Counter[str]:
        answers = await deployment.read("llm.responses", until=n, timeout=90)
        assert len(answers) == n, sorted(a["request_id"] for a in answers)
        assert all(a["path"] == "batch" and a["status"] == "ok" for a in answers)
        return Counter(a["request_id"].removeprefix(f"{run}-") for a in answers)

    w1 = deployment.start_worker("w1")
    # "held" is published before the others of its partition, so it is buffered before
    # they are answered; alone in its window (gpt-4o, no deadline), only a drain closes it.
    await deployment.publish([
        batch("held", model="gpt-4o"),
        batch("a1", system=SYSTEM_A), batch("b1", system=SYSTEM_B),
        # deadline_s == batch_min_deadline_s: the batch must be submitted at once.
        batch("urgent", model="gpt-4.1-mini", deadline_s=3600),
    ])  # fmt: skip
    await asyncio.sleep(1)  # a later take(): the window, not the take, groups requests
    await deployment.publish([batch("a2", system=SYSTEM_A), batch("b2", system=SYSTEM_B)])
    assert set(await answered(5)) == {"a1", "b1", "a2", "b2", "urgent"}
    batches = await _batches(emulator_url, started)
    assert sorted(len(lines) for lines in batches) == [1, 4]  # closed by deadline and size
    [four] = [lines for lines in batches if len(lines) == 4]
    assert four == [safe_custom_id(f"{run}-{rid}") for rid in ("a1", "a2", "b1", "b2")]

    w2 = deployment.start_worker("w2")  # the rebalance drains w1's windows
    assert "held" in await answered(6)

    await deployment.publish([batch("held2", model="gpt-4o")] + [batch(f"c{i}") for i in range(4)])
    await answered(10)
    assert w1.stop() == 0 and w2.stop() == 0, "a stopping worker hung on its open window"
    deployment.start_worker("w3")
    ids = await answered(11)
    assert "held2" in ids and max(ids.values()) == 1
    batches = await _batches(emulator_url, started)
    assert sorted(len(lines) for lines in batches) == [1, 1, 1, 4, 4]  # none submitted twice


async def _batches(url: str, since: float) -> list[list[str]]:
    """The custom ids of every OpenAI batch the emulator accepted since ``since``, in order."""
    headers = {"authorization": "Bearer test"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:
        listed = (await client.get("/v1/batches", params={"limit": 100})).json()["data"]
        out = []
        for entry in listed:
            if entry["created_at"] >= since:
                content = await client.get(f"/v1/files/{entry['input_file_id']}/content")
                lines = content.text.splitlines()
                out.append([json.loads(line)["custom_id"] for line in lines if line])
    return out
