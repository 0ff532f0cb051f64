"""The cost sink's place in the worker: a task that runs ``app.sink.consumer.CostSink``.

The sink reads ``llm.cost-events`` with its own consumer (that module says why and how
nothing is lost or counted twice); it starts with the worker and stops with it.
"""

from __future__ import annotations

from app.pipeline import Pipeline
from app.sink.consumer import CostSink
from app.sink.store import connect_store


def register(p: Pipeline) -> None:
    @p.app.task
    async def cost_sink() -> None:
        store = await connect_store(p.settings.database_url)
        try:
            await CostSink(p.settings, store, p.publish_dead_letter).run()
        finally:
            await store.close()
