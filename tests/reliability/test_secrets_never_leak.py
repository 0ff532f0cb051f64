"""API keys never reach logs, events, the database or the provider's recorded bodies.

Workers run with recognisable fake keys (the emulator as every provider's base URL), at
DEBUG log level, through successes and error paths: provider 401s and 500s, a key that
is not a valid HTTP header value (a trailing newline, as read from a secret file), and an
invalid setting that stops a worker at start-up. Then the secret part of each key is
searched for in every worker's output, every record of every topic of both deployments,
the text of every Postgres table, and the emulator's stats and captured bodies.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from pathlib import Path

from frugalflow.infra.worker_process import ChildProcess
from tests.integration.harness import Deployment, request
from tests.reliability.support import (
    EmulatorControl,
    answers_for,
    database_text,
    every_record,
)

TOKEN = secrets.token_hex(16)  # what must never appear, whatever wraps it
KEYS = {
    "ANTHROPIC_API_KEY": f"sk-ant-test-SECRET-{TOKEN}a",
    "OPENAI_API_KEY": f"sk-test-SECRET-{TOKEN}o",
    "GEMINI_API_KEY": f"AIza-test-SECRET-{TOKEN}g",
}
MODELS = ("claude-haiku-4-5", "gpt-4o-mini", "gemini-2.5-flash-lite")


def with_keys(deployment: Deployment, keys: dict[str, str]) -> None:
    url = deployment.emulator_url
    deployment.extra_env.update(keys)
    deployment.extra_env.update(
        FRUGALFLOW_ANTHROPIC_BASE_URL=url,
        FRUGALFLOW_OPENAI_BASE_URL=f"{url}/v1",
        FRUGALFLOW_GEMINI_BASE_URL=url,
        FRUGALFLOW_LOG_LEVEL="DEBUG",
    )


def traffic(run: str, label: str, n: int) -> list[tuple[bytes, bytes]]:
    return [
        request(f"{run}-{label}{i}", f"tenant{i % 3}", model=MODELS[i % len(MODELS)],
                priority="batch" if i % 4 == 3 else "immediate")
        for i in range(n)
    ]  # fmt: skip


def leaks(haystack: str) -> list[str]:
    """Where the secret appears: a few characters either side of each occurrence."""
    found, at = [], haystack.find(TOKEN)
    while at >= 0 and len(found) < 5:
        found.append(haystack[max(0, at - 60) : at + 40])
        at = haystack.find(TOKEN, at + 1)
    return found


async def test_api_keys_never_appear_anywhere(
    deployment: Deployment, emulator: EmulatorControl, tmp_path: Path
) -> None:
    run = deployment.prefix.rstrip(".")
    await emulator.start_capture()
    with_keys(deployment, KEYS)
    deployment.start_worker()

    # 1. Successes on every provider, immediate and batch.
    ok = traffic(run, "ok", 12)
    await deployment.publish(ok)
    await answers_for(deployment, {f"{run}-ok{i}" for i in range(12)}, timeout=90)
    # 2. The provider refuses the key (401), then fails (500, retried, then given up).
    for status in (401, 500):
        await emulator.set(error_statuses=[status], fail_next_n=9)
        await deployment.publish(traffic(run, f"e{status}-", 3))
        await answers_for(deployment, {f"{run}-e{status}-{i}" for i in range(3)}, timeout=90)
        await emulator.set(fail_next_n=0)

    # 3. A key that is not a valid header value. Refusing it at start-up, stripping it or
    #    failing every call are all fine; echoing it anywhere is not.
    broken = Deployment(
        deployment.bootstrap, deployment.dsn, deployment.emulator_url,
        f"t{uuid.uuid4().hex[:10]}.", tmp_path / "broken",
    )  # fmt: skip
    with_keys(broken, {name: f"{key}\n" for name, key in KEYS.items()})
    try:
        broken.start_worker()
    except RuntimeError:  # refused to start: its output is searched below all the same
        pass
    else:
        await broken.publish(traffic(run, "broken", 3))
        await answers_for(broken, {f"{run}-broken{i}" for i in range(3)}, timeout=90)
    finally:
        broken.stop_all()

    # 4. An invalid setting: the worker refuses to start, and says why.
    refused = ChildProcess(
        "refused", ["worker"],
        {**deployment.env(), "FRUGALFLOW_PROVIDER_TIMEOUT_S": "soon"},
        tmp_path / "refused.log",
    ).start()  # fmt: skip
    assert refused.proc is not None
    await asyncio.to_thread(refused.proc.wait, 60)
    assert refused.proc.returncode != 0
    assert "FRUGALFLOW_PROVIDER_TIMEOUT_S" in refused.log_path.read_text()

    deployment.stop_all()  # flush everything the worker had to say
    places: dict[str, str] = {}
    for log in sorted(tmp_path.rglob("*.log")):
        places[f"log {log.relative_to(tmp_path)}"] = log.read_text(errors="replace")
    for d in (deployment, broken):
        for topic, records in (await every_record(d.bootstrap, d.prefix)).items():
            places[f"topic {topic}"] = "\n".join(
                k.decode(errors="replace") + " " + v.decode(errors="replace") for k, v in records
            )
    for table, text in (await database_text(deployment.dsn)).items():
        places[f"table {table}"] = text
    places["emulator stats"] = json.dumps(await emulator.stats())
    places["emulator capture"] = json.dumps(await emulator.captured())

    assert len(places["log w1.log"]) > 10_000, "the worker said too little to prove anything"
    assert any(f"{run}-ok0" in text for name, text in places.items() if name.startswith("topic"))
    assert any(f"{run}-ok0" in text for name, text in places.items() if name.startswith("table"))
    found = {name: leaks(text) for name, text in places.items() if TOKEN in text}
    assert not found, f"API key found in: {json.dumps(found, indent=1)[:3000]}"
