"""The cost sink's place in the worker: a task that runs ``frugalflow.sink.consumer.cost_sink``.

The sink reads ``llm.cost-events`` with its own consumer (app/sink/topic_sink.py says why
and how nothing is lost or counted twice); it starts with the worker and stops with it.
"""

from __future__ import annotations

from frugalflow.pipeline import Pipeline
from frugalflow.sink.consumer import cost_sink
from frugalflow.sink.store import connect_store


def register(p: Pipeline) -> None:
    @p.app.task
    async def run_cost_sink() -> None:
        store = await connect_store(p.settings.database_url)
        try:
            await cost_sink(p.settings, store, p.publish_dead_letter).run()
        finally:
            await store.close()
