"""``frugalflow`` command line. Exit codes: 0 ok, 1 failure, 2 bad usage or input,
3 topic drift."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from app.settings import Settings, SettingsError, load_settings

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

    sub.add_parser("run", help="the local stack (broker, Postgres, emulator, worker) until Ctrl-C")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if args.command == "worker":
        from app.worker import run_worker

        return run_worker(settings)
    if args.command == "topics":
        return _topics(args.topics_command, settings)
    if args.command == "emulator":
        return _emulator(args)
    if args.command in ("demo", "run"):
        from app.demo.stack import run_demo, run_stack

        if args.command == "run":
            return run_stack(settings)
        if args.requests < 20:
            print("frugalflow: --requests must be at least 20", file=sys.stderr)
            return EXIT_USAGE
        return run_demo(settings, n_requests=args.requests, timeout_s=args.timeout)
    return EXIT_USAGE


def _topics(command: str, settings: Settings) -> int:
    from app.topics import TopicDefinitionError, apply_topics, load_topics

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
    from app.emulator.config import EmulatorConfig
    from app.emulator.server import run

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
