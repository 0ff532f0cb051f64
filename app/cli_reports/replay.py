"""``frugalflow replay WORKLOAD.jsonl``: a recorded workload through the real pipeline.

Each line of the file is one ``NEW_RECORD`` request as services publish it to
``llm.requests``; every line is validated with ``frugalflow.events.RequestEvent`` before anything
starts (a bad line exits 2 naming its number). The local stack of ``make demo``
(``frugalflow.demo.stack.LocalStack``: Tansu unless ``KAFKA_BOOTSTRAP_SERVERS`` is set, Postgres
from ``DATABASE_URL`` or a local one, the provider emulator unless API keys are set, one
worker) answers them.

Request ids are made unique per run: each is sent as ``<run id>-<request_id>`` with a run
id ``replay-<8 hex>``, so replaying the same file again is not deduplicated against an
earlier run (and request ids may be at most 112 characters in the file). The request ids
of the file must be unique within it.

The report compares *before* — the list price, real time, no caching, of the requested
model (or of ``--baseline-model`` for every request, from the same token counts) — with
*after*, the cost billed, with savings by lever, all from the run's cost events in
Postgres. Exit 0 when every request was answered, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from frugalflow.cli_reports.progress import Progress
from frugalflow.cli_reports.table import Column, money, render_table, to_json
from frugalflow.costing.calculator import baseline_cost
from frugalflow.costing.catalog import UnknownModelError, price_of
from frugalflow.demo import report
from frugalflow.demo.workload import Record
from frugalflow.events import Money, RequestEvent
from frugalflow.providers.base import Usage
from frugalflow.reports.models import percent_of
from frugalflow.settings import Settings

EXIT_USAGE = 2
MAX_REQUEST_ID = 128
RUN_ID_LENGTH = len("replay-") + 8


class WorkloadError(ValueError):
    """A workload file that cannot be replayed; the message names the line."""


@dataclass(frozen=True)
class Workload:
    run_id: str
    records: list[Record]

    @property
    def request_ids(self) -> set[str]:
        return {r.request_id for r in self.records if r.request_id}


def new_run_id() -> str:
    return f"replay-{uuid.uuid4().hex[:8]}"


def load_workload(path: Path, run_id: str) -> Workload:
    """Validate every line and prefix each request id with ``run_id``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadError(f"cannot read {path}: {exc}") from None
    records: list[Record] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise WorkloadError(f"{path}:{number}: not JSON ({exc.msg})") from None
        try:
            request = RequestEvent.model_validate(raw)
        except ValidationError as exc:
            raise WorkloadError(f"{path}:{number}: {_problems(exc)}") from None
        rid = request.request_id
        if rid in seen:
            raise WorkloadError(f"{path}:{number}: request_id {rid!r} repeats line {seen[rid]}")
        if len(rid) > MAX_REQUEST_ID - RUN_ID_LENGTH - 1:
            raise WorkloadError(
                f"{path}:{number}: request_id is longer than "
                f"{MAX_REQUEST_ID - RUN_ID_LENGTH - 1} characters (the run id is prefixed)"
            )
        seen[rid] = number
        unique = f"{run_id}-{rid}"
        value = json.dumps({**raw, "request_id": unique}).encode()
        records.append(Record(request.tenant_id.encode(), value, True, unique))
    if not records:
        raise WorkloadError(f"{path}: no requests (one NEW_RECORD JSON object per line)")
    return Workload(run_id, records)


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'request'}: {err['msg']}" for err in exc.errors()
    )


class ReplayReport(BaseModel):
    run_id: str
    workload: str
    requests: int
    answered: int
    complete: bool
    answers: dict[str, int]  # "path/status" -> count
    cost_rows: int
    baseline_model: str | None  # None: each request's own model
    before_usd: Money
    after_usd: Money
    savings_usd: Money
    savings_pct: Decimal
    levers: dict[str, Money]  # recorded savings by lever (against the requested model)
    baseline_model_difference_usd: Money  # before on --baseline-model minus recorded baseline
    elapsed_s: float


def summarize(
    outcome: report.Outcome, *, run_id: str, workload: str, baseline_model: str | None,
    elapsed_s: float,
) -> ReplayReport:  # fmt: skip
    recorded = Decimal(outcome.db_baseline)
    before = recorded
    if baseline_model is not None:
        before = baseline_cost(Usage(**outcome.db_tokens), baseline_model)
    after = Decimal(outcome.db_cost)
    paths = Counter(f"{a['path']}/{a['status']}" for a in outcome.answers.values())
    return ReplayReport(
        run_id=run_id,
        workload=workload,
        requests=outcome.expected,
        answered=len(outcome.answers),
        complete=len(outcome.answers) == outcome.expected,
        answers=dict(sorted(paths.items())),
        cost_rows=outcome.cost_rows,
        baseline_model=baseline_model,
        before_usd=before,
        after_usd=after,
        savings_usd=before - after,
        savings_pct=percent_of(before - after, before),
        levers={k: Decimal(v) for k, v in outcome.db_savings.items()},
        baseline_model_difference_usd=before - recorded,
        elapsed_s=round(elapsed_s, 1),
    )


def render_replay(r: ReplayReport) -> str:
    answers = render_table(
        [Column("path"), Column("status"), Column("answers", "int")],
        [[*key.split("/", 1), n] for key, n in r.answers.items()],
    )
    basis = f"{r.baseline_model} list price" if r.baseline_model else "requested models' list price"
    rows: list[list[Any]] = [[f"lever: {k}", v] for k, v in r.levers.items()]
    if r.baseline_model:
        rows.append(
            [f"baseline on {r.baseline_model} vs requested", r.baseline_model_difference_usd]
        )
    rows.append(["total saved", r.savings_usd])
    costs = render_table(
        [Column(""), Column("USD", "money")],
        [
            [f"before ({basis}, real time, no caching)", r.before_usd],
            ["after (billed)", r.after_usd],
            *rows,
        ],
    )
    state = "COMPLETE" if r.complete else "INCOMPLETE"
    return "\n".join(
        [
            f"Replay {r.run_id} of {r.workload}: {r.answered} of {r.requests} requests answered",
            answers,
            "",
            f"Cost ({r.cost_rows} cost events in Postgres for this run):",
            costs,
            f"Saved {money(r.savings_usd)} ({r.savings_pct}% of before).",
            "",
            f"{state} in {r.elapsed_s:.1f}s",
        ]
    )


def run_replay(
    settings: Settings, workload_path: str, *, baseline_model: str | None, timeout_s: float,
    as_json: bool,
) -> int:  # fmt: skip
    if baseline_model is not None:
        try:
            price_of(baseline_model)
        except UnknownModelError as exc:
            print(f"frugalflow: --baseline-model: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        workload = load_workload(Path(workload_path), new_run_id())
    except WorkloadError as exc:
        print(f"frugalflow: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from frugalflow.demo.stack import LocalStack, temp_workdir

    started = time.monotonic()
    with temp_workdir() as workdir:
        try:
            stack = LocalStack(settings, workdir).__enter__()
        except Exception as exc:
            print(f"frugalflow: could not start the local stack: {exc}", file=sys.stderr)
            return 1
        try:
            for note in stack.notes:
                print(f"  • {note}", file=sys.stderr)
            outcome = _run(stack.bootstrap, stack.dsn, workload, settings, timeout_s)
        finally:
            stack.__exit__(None, None, None)
        result = summarize(
            outcome, run_id=workload.run_id, workload=workload_path,
            baseline_model=baseline_model, elapsed_s=time.monotonic() - started,
        )  # fmt: skip
        print(to_json(result) if as_json else render_replay(result))
        if not result.complete:
            print(f"frugalflow: {result.requests - result.answered} requests unanswered; "
                  f"logs in {workdir}", file=sys.stderr)  # fmt: skip
    return 0 if result.complete else 1


def _run(
    bootstrap: str, dsn: str, workload: Workload, settings: Settings, timeout_s: float
) -> report.Outcome:
    prefix = settings.topic_prefix
    print(f"Publishing {len(workload.records)} requests as run {workload.run_id} …",
          file=sys.stderr)  # fmt: skip
    asyncio.run(report.publish(bootstrap, workload.records, topic_prefix=prefix))
    progress = Progress("answers")
    try:
        return asyncio.run(
            report.collect(
                bootstrap, dsn, workload.run_id, workload.request_ids, 0, timeout_s,
                topic_prefix=prefix, on_progress=progress.update,
            )
        )  # fmt: skip
    finally:
        progress.finish()
