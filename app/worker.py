"""Start one worker: check the topics, build the pipeline, run Faust until stopped."""

from __future__ import annotations

import asyncio
import logging
import sys

import faust

from frugalflow.costing.catalog import PricingConfigError, priced_models
from frugalflow.event_loop import EventLoopError, use_event_loop
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
    quiet_per_request_loggers(settings.log_level)
    try:
        # the catalog, its override file and the named providers' prices: a bad one stops
        # the worker here rather than failing its requests
        priced_models()
    except PricingConfigError as exc:
        print(f"frugalflow: invalid pricing: {exc}", file=sys.stderr)
        return 2
    try:
        loop = use_event_loop(settings.event_loop)
    except EventLoopError as exc:
        print(f"frugalflow: {exc}", file=sys.stderr)
        return 2
    logging.getLogger(__name__).info("event loop: %s", loop)
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


# The SDKs' HTTP clients log every provider call at INFO ("HTTP Request: POST …"): one line
# per request drowns the worker's own log and costs a few per cent of its CPU.
PER_REQUEST_LOGGERS = ("httpx", "httpx2")


def quiet_per_request_loggers(level: str) -> None:
    """Above DEBUG, keep the per-request loggers to warnings; at DEBUG they log every call."""
    quiet = logging.getLevelName(level) > logging.DEBUG
    for name in PER_REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
