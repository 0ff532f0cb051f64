"""``frugalflow bench <name>``: run one bench, print its report. Exit codes as the CLI's:
0 every request answered (every event stored), 1 the stack failed or the run was
incomplete, 2 bad arguments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from frugalflow.bench.broker import bench_broker
from frugalflow.bench.report import BenchReport
from frugalflow.settings import Settings

EXIT_USAGE = 2
ONE_MILLION = 1_000_000


def usage_error(args: argparse.Namespace, partitions: int = 1) -> str | None:
    """Argument checks that depend on more than one value (argparse checks the rest)."""
    if args.bench_command == "cost" and ONE_MILLION % args.documents:
        return (
            f"--documents must divide 1,000,000 so the per-million extrapolation is exact "
            f"(e.g. 500, 1000, 2000), got {args.documents}"
        )
    if args.bench_command == "throughput" and not (
        args.batch or args.immediate or args.passthrough or args.slow_provider or args.faust_floor
    ):
        return (
            "nothing to measure: --batch, --immediate, --slow-provider, --passthrough and "
            "--faust-floor are all 0"
        )
    if args.bench_command == "throughput" and args.workers > partitions:
        return (
            f"--workers {args.workers} is more than the topics' {partitions} "
            "partitions (FRUGALFLOW_PARTITIONS): the extra workers would get none"
        )
    return None


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    problem = usage_error(args, settings.partitions)
    if problem:
        print(f"frugalflow: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from frugalflow.demo.stack import temp_workdir

    with temp_workdir() as workdir:
        try:
            with bench_broker(args.broker, workdir) as broker:
                report = _dispatch(args, settings, workdir)
            if broker is not None:
                report.parameters["broker"] = broker
        except Exception as exc:  # the stack or the broker failed: one line, logs kept
            print(
                f"frugalflow: bench {args.bench_command} failed: {type(exc).__name__}: {exc}"
                f" (logs in {workdir})",
                file=sys.stderr,
            )
            return 1
        print(report.to_json() if args.json else report.render())
        if not report.complete:
            print(f"frugalflow: bench {args.bench_command} incomplete; logs in {workdir}",
                  file=sys.stderr)  # fmt: skip
    return 0 if report.complete else 1


def _dispatch(args: argparse.Namespace, settings: Settings, workdir: Path) -> BenchReport:
    name = args.bench_command
    if name == "throughput":
        from frugalflow.bench.throughput import run_throughput

        return run_throughput(
            settings, workdir, batch=args.batch, immediate=args.immediate,
            passthrough=args.passthrough, timeout_s=args.timeout, workers=args.workers,
            slow=args.slow_provider, faust_floor=args.faust_floor,
        )  # fmt: skip
    if name == "latency":
        from frugalflow.bench.latency import run_latency

        return run_latency(
            settings, workdir, requests=args.requests, latency_ms=args.latency_ms,
            rate=args.rate, timeout_s=args.timeout,
        )  # fmt: skip
    if name == "cost":
        from frugalflow.bench.cost import run_cost

        return run_cost(
            settings, workdir, documents=args.documents, chats=args.chats, seed=args.seed,
            rate=args.rate, timeout_s=args.timeout,
        )  # fmt: skip
    if name == "sink":
        from frugalflow.bench.sink import run_sink

        return run_sink(
            settings, workdir, events=args.events,
            batch_size=args.batch_size or settings.sink_batch_size,
            agent_events=args.agent_events, timeout_s=args.timeout,
        )  # fmt: skip
    from frugalflow.bench.memory import run_memory

    return run_memory(
        settings, workdir, duration_s=args.duration, rate=args.rate, interval_s=args.interval,
        timeout_s=args.timeout, ttl_s=args.ttl,
    )  # fmt: skip
