"""``frugalflow`` command line. Exit codes: 0 ok, 1 failure, 2 bad usage or input,
3 topic drift or an unexplained pricing difference."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from frugalflow.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    import asyncpg

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"frugalflow: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="frugalflow", description="Cut LLM bills inside a Kafka stream.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("worker", help="run a stream worker (settings from FRUGALFLOW_* env)")

    topics = sub.add_parser("topics", help="topic definitions (topics/topics.yaml)")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True, parser_class=_Parser)
    topics_sub.add_parser("apply", help="create missing topics, report drift (exit 3)")
    topics_sub.add_parser("list", help="print the topic definitions")

    emulator = sub.add_parser("emulator", help="serve the provider emulator (Anthropic + OpenAI)")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8099)
    emulator.add_argument("--config", help="JSON file with EmulatorConfig fields")

    demo = sub.add_parser("demo", help="run the whole pipeline locally on a sample workload")
    demo.add_argument("--requests", type=int, default=240, help="valid requests (>= 20)")
    demo.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for answers")
    demo.add_argument("--exit", action="store_true",
                      help="stop after the report (default in a terminal: keep the console up "
                           "until Ctrl-C)")  # fmt: skip

    sub.add_parser("run", help="the local stack (broker, Postgres, emulator, worker, API and "
                   "console) until Ctrl-C")  # fmt: skip
    sub.add_parser("api", help="serve the admin HTTP API (FRUGALFLOW_API_HOST/PORT)")
    sub.add_parser("mcp", help="serve the MCP tools (cost, savings, budgets) on stdio")
    alerts = sub.add_parser("alerts", help="alert delivery channels")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True)
    alert_test = alerts_sub.add_parser("test", help="send a test alert on a channel now")
    alert_test.add_argument("channel", help="a channel name of FRUGALFLOW_ALERT_CHANNELS")
    alert_test.add_argument("--tenant", default="*", help="tenant shown in the test alert")
    _add_report_commands(sub)
    _add_bench_commands(sub)
    _add_pricing_commands(sub)
    return parser


def _add_pricing_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``pricing list|check|import``: the catalog and LiteLLM's table (app/cli_pricing.py)."""
    from frugalflow.cli_pricing import add_pricing_commands

    add_pricing_commands(sub)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _count(text: str) -> int:
    """A whole number >= 0 (0 skips that part of a bench)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def _add_bench_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """``bench <name>``: figures measured on a throw-away local stack (app/bench)."""
    from frugalflow.bench.broker import CHOICES as BROKERS

    bench = sub.add_parser("bench", help="measure throughput, latency, cost, sink and memory")
    benches = bench.add_subparsers(dest="bench_command", required=True, parser_class=_Parser)

    def command(name: str, help: str, timeout: float) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = benches.add_parser(name, help=help)
        parser.add_argument("--timeout", type=_positive_float, default=timeout,
                            help="seconds to wait for the answers of one phase")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="one JSON document")
        parser.add_argument("--broker", choices=BROKERS, default="auto",
                            help="auto (default): KAFKA_BOOTSTRAP_SERVERS if set, else "
                            "Tansu; apache-kafka: a real Kafka started for the run")  # fmt: skip
        return parser

    throughput = command(
        "throughput", "requests/s on both paths, the raw Kafka ceiling and the Faust floor", 300
    )
    throughput.add_argument("--batch", type=_count, default=5000, help="batch-path requests")
    throughput.add_argument("--immediate", type=_count, default=2000,
                            help="immediate-path requests")  # fmt: skip
    throughput.add_argument("--passthrough", type=_count, default=20000,
                            help="records through the aiokafka passthrough")  # fmt: skip
    throughput.add_argument("--faust-floor", type=_count, default=5000,
                            help="records through a Faust agent that only writes tables and "
                            "sends (the framework's own floor)")  # fmt: skip
    throughput.add_argument("--slow-provider", type=_count, default=2000,
                            help="immediate-path requests with the provider at 50 ms")  # fmt: skip
    throughput.add_argument("--workers", type=_positive_int, default=1,
                            help="worker processes in one group (<= partitions)")  # fmt: skip

    latency = command("latency", "added latency of the immediate path (P50/P95/P99)", 120)
    latency.add_argument("--requests", type=_positive_int, default=300, help="measured requests")
    latency.add_argument("--latency-ms", type=_count, default=50, help="fixed emulator latency")
    latency.add_argument("--rate", type=_positive_float, default=20.0, help="requests per second")

    cost = command("cost", "reference workloads priced from their cost events", 300)
    cost.add_argument("--documents", type=_positive_int, default=1000,
                      help="documents of workload (a); must divide 1,000,000")  # fmt: skip
    cost.add_argument("--chats", type=_positive_int, default=500, help="chats of workload (b)")
    cost.add_argument("--seed", type=int, default=7, help="seed of the chat mix")
    cost.add_argument("--rate", type=_positive_float, default=50.0, help="chats per second")

    sink = command("sink", "cost events per second into Postgres", 300)
    sink.add_argument("--events", type=_positive_int, default=50000,
                      help="synthetic cost events inserted through CostStore")  # fmt: skip
    sink.add_argument("--batch-size", type=_positive_int, default=None,
                      help="events per insert (default: FRUGALFLOW_SINK_BATCH_SIZE)")  # fmt: skip
    sink.add_argument("--agent-events", type=_count, default=20000,
                      help="events through the real sink agent (0 skips it)")  # fmt: skip

    memory = command("memory", "worker RSS over a long batch-path run", 300)
    memory.add_argument("--duration", type=_positive_float, default=120.0,
                        help="seconds of steady traffic")  # fmt: skip
    memory.add_argument("--rate", type=_positive_float, default=100.0, help="requests per second")
    memory.add_argument("--interval", type=_positive_float, default=1.0,
                        help="seconds between RSS samples")  # fmt: skip
    memory.add_argument("--ttl", type=_positive_float, default=None,
                        help="the worker's dedupe and batch-membership TTL, s (default: "
                        "FRUGALFLOW_DEDUPE_TTL_S / FRUGALFLOW_BATCH_MEMBERSHIP_TTL_S)")  # fmt: skip


def _add_report_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Reports over DATABASE_URL (exit 1 when Postgres is unreachable) and ``replay``."""
    from frugalflow.cli_reports.export import iso_date

    def scoped(name: str, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
        parser.add_argument("--tenant", help="one tenant (default: every tenant)")
        parser.add_argument("--days", type=_positive_int, default=30, help="window in days")
        parser.add_argument("--json", action="store_true", help="one JSON document")
        return parser

    scoped("status", "spend against budgets, month forecast, cost by provider and model")
    scoped("optimize", "cost recommendations with estimated monthly savings")

    export = sub.add_parser("export", help="raw cost events of a date range as CSV")
    export.add_argument("--start", type=iso_date, required=True, help="first UTC day, YYYY-MM-DD")
    export.add_argument("--end", type=iso_date, required=True, help="last UTC day (included)")
    export.add_argument("--tenant", help="one tenant (default: every tenant)")
    export.add_argument("--output", default="-", help="file to write, '-' for stdout (default)")

    experiments = sub.add_parser("experiments", help="the A/B experiments")
    experiments.add_argument("--json", action="store_true", help="one JSON document")
    experiments_sub = experiments.add_subparsers(dest="experiments_command", parser_class=_Parser)
    show = experiments_sub.add_parser(
        "show", help="one experiment's variants against the control (as the admin API)"
    )
    show.add_argument("id", help="the experiment id")
    show.add_argument("--json", action="store_true", help="one JSON document")

    replay = sub.add_parser(
        "replay", help="run a JSONL workload through the local pipeline; cost before and after"
    )
    replay.add_argument("workload", help="one NEW_RECORD request JSON per line")
    replay.add_argument("--baseline-model", help="price the 'before' on this model's list price")
    replay.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for answers")
    replay.add_argument("--json", action="store_true", help="one JSON document on stdout")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "pricing":  # reads no settings: works where the worker's env is unset
        from frugalflow.cli_pricing import run_pricing

        return run_pricing(args)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if args.command == "worker":
        from frugalflow.worker import run_worker

        return run_worker(settings)
    if args.command == "topics":
        return _topics(args.topics_command, settings)
    if args.command == "emulator":
        return _emulator(args)
    if args.command in ("demo", "run"):
        from frugalflow.demo.stack import run_demo, run_stack

        if args.command == "run":
            return run_stack(settings)
        if args.requests < 20:
            print("frugalflow: --requests must be at least 20", file=sys.stderr)
            return EXIT_USAGE
        return run_demo(settings, n_requests=args.requests, timeout_s=args.timeout,
                        keep_open=not args.exit)  # fmt: skip
    if args.command == "mcp":
        from frugalflow.mcp import main_mcp

        return main_mcp(settings)
    if args.command == "alerts":
        from frugalflow.alerts.check import send_test

        return asyncio.run(send_test(settings, args.channel, args.tenant))
    if args.command == "api":
        from frugalflow.api import main_api

        return main_api(settings)
    if args.command == "replay":
        from frugalflow.cli_reports.replay import run_replay

        return run_replay(
            settings,
            args.workload,
            baseline_model=args.baseline_model,
            timeout_s=args.timeout,
            as_json=args.json,
        )
    if args.command in ("status", "optimize", "export", "experiments"):
        return _report(args, settings)
    if args.command == "bench":
        from frugalflow.bench.command import run_bench

        return run_bench(args, settings)
    return EXIT_USAGE


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from frugalflow.cli_reports import experiments, export, optimize, status
    from frugalflow.cli_reports.db import run_with_db
    from frugalflow.cli_reports.table import to_json

    if args.command == "export" and args.start > args.end:
        print(f"frugalflow: --start {args.start} is after --end {args.end}", file=sys.stderr)
        return EXIT_USAGE

    async def command(conn: asyncpg.Connection) -> int:
        if args.command == "export":
            return await export.write_export(
                conn, start=args.start, end=args.end, tenant=args.tenant, output=args.output
            )
        if args.command == "experiments" and args.experiments_command == "show":
            return await experiments.show_experiment(
                conn, args.id, min_sample=settings.experiment_min_sample, as_json=args.json
            )
        if args.command == "experiments":
            rows = await experiments.list_experiments(conn)
            print(to_json(rows) if args.json else experiments.render_experiments(rows))
            return 0
        if args.command == "status":
            report = await status.build_status(conn, tenant=args.tenant, days=args.days)
            print(to_json(report) if args.json else status.render_status(report))
            return 0
        found = await optimize.build_optimize(conn, tenant=args.tenant, days=args.days)
        print(to_json(found) if args.json else optimize.render_optimize(found))
        return 0

    return run_with_db(settings, command)


def _topics(command: str, settings: Settings) -> int:
    from frugalflow.topics import TopicDefinitionError, apply_topics, load_topics

    try:
        specs = load_topics(settings)
    except TopicDefinitionError as exc:
        print(f"frugalflow: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if command == "list":
        for spec in specs:
            print(f"{spec.full_name:28} {spec.scope:9} partitions={spec.partitions} "
                  f"replication={spec.replication} key={spec.key} value={spec.value} "
                  f"config={spec.config}")  # fmt: skip
        return 0
    try:
        report = asyncio.run(apply_topics(settings.kafka_bootstrap_servers, specs))
    except Exception as exc:  # broker unreachable, auth...
        print(f"frugalflow: cannot reach Kafka at {settings.kafka_bootstrap_servers}: {exc}",
              file=sys.stderr)  # fmt: skip
        return 1
    for line in report.lines():
        print(line)
    return report.exit_code


def _emulator(args: argparse.Namespace) -> int:
    from frugalflow.emulator.config import EmulatorConfig
    from frugalflow.emulator.server import run

    try:
        base = EmulatorConfig.from_json_file(args.config) if args.config else None
        config = EmulatorConfig.from_env(base=base)
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        print(f"frugalflow: bad emulator config: {exc}", file=sys.stderr)
        return EXIT_USAGE
    run(args.host, args.port, config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
