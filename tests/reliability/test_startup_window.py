"""Records published while a worker starts are all answered (``app/faust_compat.py``).

Publishers here do not wait for ``/ready``: they publish continuously from the moment the
worker process is spawned, through its group join and table recovery, until it is ready.
The group's first start reads partitions it never committed: where faust-streaming 0.15.3
dropped records it had in hand when its flow stopped, aiokafka's seek back to the
committed offsets did nothing, so they were never read again (fix 2). Each restart
follows a clean stop, so the group's committed offsets equal the end offsets: the state
in which it dropped records fetched while it sought the stream partitions to those
offsets (fix 1). Each window is a race (tens of ms, once per start); measured without
fix 1, it hit most often on a group's first restart, so the test runs several fresh
deployments (own topics and group) rather than one restarted many times.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from frugalflow.faust_compat import StartupSafeRecovery, StartupSafeTableManager
from frugalflow.pipeline import build_faust_app
from frugalflow.settings import Settings
from tests.integration.harness import Deployment, request
from tests.reliability.support import SOAK, Publisher, answers_for

RESTARTS = 2  # per deployment
# More partitions, more chances per start: one seek per stream partition.
PARTITIONS = 12
TENANTS = [f"tenant{i}" for i in range(3 * PARTITIONS)]  # spread over every partition
AFTER_READY = 10  # records published once the worker is ready


async def publish_while_starting(
    deployment: Deployment, publisher: Publisher, name: str
) -> list[str]:
    """Start worker ``name`` and publish one request after another until it is ready."""
    sent: list[str] = []
    starting = asyncio.ensure_future(asyncio.to_thread(deployment.start_worker, name))
    while not starting.done() or len(sent) < AFTER_READY:
        request_id = f"{deployment.prefix}{name}-{len(sent)}"
        await publisher.send(*request(request_id, TENANTS[len(sent) % len(TENANTS)]))
        sent.append(request_id)
        await asyncio.sleep(0.02)
    await starting  # raises with the worker's log if it died
    return sent


async def restarted_under_traffic(deployment: Deployment) -> list[str]:
    """A first start, then ``RESTARTS`` clean stops and starts, publishing during each."""
    deployment.extra_env["FRUGALFLOW_PARTITIONS"] = str(PARTITIONS)
    await deployment.create_topics()  # to publish before the first worker creates them
    async with Publisher(deployment) as publisher:
        sent = await publish_while_starting(deployment, publisher, "w0")
        warm = [f"{deployment.prefix}warm-{i}" for i in range(len(TENANTS))]
        for i, request_id in enumerate(warm):  # every partition, so each has commits
            await publisher.send(*request(request_id, TENANTS[i]))
        sent += warm
        for restart in range(1, RESTARTS + 1):
            # All answered, then a clean stop: offsets committed up to the end. (The wait
            # also lets the worker commit past anything it dropped, as it would in the field.)
            await answers_for(deployment, set(sent), timeout=20)
            deployment.workers[-1].stop()
            sent += await publish_while_starting(deployment, publisher, f"w{restart}")
    return sent


def sibling(d: Deployment, i: int) -> Deployment:
    """Another deployment on the same infrastructure, with its own topics and group."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    return Deployment(d.bootstrap, d.dsn, d.emulator_url, prefix, d.workdir / f"d{i}")


@pytest.mark.parametrize("how_many", [3, pytest.param(12, marks=SOAK)])
async def test_records_published_during_worker_start_up_are_all_answered(
    deployment: Deployment, how_many: int
) -> None:
    deployments = [deployment] + [sibling(deployment, i) for i in range(1, how_many)]
    try:
        for d in deployments:
            sent = await restarted_under_traffic(d)
            answers = await answers_for(d, set(sent), timeout=60)
            answered = Counter(a["request_id"] for a in answers)
            missing = [r for r in sent if r not in answered]
            assert not missing, f"{len(missing)} of {len(sent)} never answered: {missing[:5]}"
            assert max(answered.values()) == 1, f"answered twice: {answered.most_common(3)}"
            assert all(a["status"] == "ok" for a in answers)
            d.stop_all()
    finally:
        for d in deployments[1:]:
            d.stop_all()


def test_the_worker_app_recovers_tables_with_the_fix() -> None:
    app = build_faust_app(Settings(kafka_bootstrap_servers="127.0.0.1:9092"))
    assert isinstance(app.tables, StartupSafeTableManager)
    assert isinstance(app.tables.recovery, StartupSafeRecovery)
