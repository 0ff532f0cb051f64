"""Start one worker: check the topics, build the pipeline, run Faust until stopped."""

from __future__ import annotations

import asyncio
import logging
import sys

import faust

from frugalflow.costing.catalog import PricingConfigError, priced_models
from frugalflow.settings import Settings
from frugalflow.topics import apply_topics, load_topics
from frugalflow.wiring import build_pipeline
from frugalflow.worker_profile import profiled


def ensure_topics(settings: Settings) -> int:
    """Create missing topics; refuse to run on drift (co-partitioning would break)."""
    report = asyncio.run(apply_topics(settings.kafka_bootstrap_servers, load_topics(settings)))
    for line in report.drift:
        print(f"frugalflow: topic drift: {line}", file=sys.stderr)
    return report.exit_code


def run_worker(settings: Settings) -> int:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        # the catalog, its override file and the named providers' prices: a bad one stops
        # the worker here rather than failing its requests
        priced_models()
    except PricingConfigError as exc:
        print(f"frugalflow: invalid pricing: {exc}", file=sys.stderr)
        return 2
    code = ensure_topics(settings)
    if code:
        return code
    pipeline = build_pipeline(settings)
    worker = faust.Worker(pipeline.app, loglevel=settings.log_level.lower(), quiet=True)
    with profiled():
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0
