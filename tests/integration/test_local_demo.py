"""The ``make demo`` path stays green: Tansu broker, Postgres, Redis, emulator, a worker, and
a report that shows every stream policy at work (pattern, cache, safety, router)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal

from frugalflow.infra.process import can_bind


def _line(out: str, pattern: str) -> re.Match[str]:
    found = re.search(pattern, out, re.MULTILINE)
    assert found, f"no line matching {pattern!r} in:\n{out}"
    return found


def test_demo_answers_everything_on_tansu(postgres_dsn: str) -> None:
    assert can_bind("127.0.0.1", 9092), "the demo needs localhost:9092 free for Tansu"
    env = {k: v for k, v in os.environ.items() if "KAFKA_BOOTSTRAP_SERVERS" not in k}
    env["DATABASE_URL"] = postgres_dsn  # reuse the suite's Postgres; the broker is Tansu
    result = subprocess.run(
        [sys.executable, "-m", "frugalflow.cli", "demo", "--requests", "40", "--timeout", "120"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Kafka: Tansu" in out
    # 40 requests of the mix, then 3 of their immediate questions asked again.
    assert "total                        43 of 43 requests (40 + 3 repeated)" in out
    assert "Dead letters: 7 of 7 malformed" in out
    # Everything but the rejected injection has a cost event, free answers included.
    assert "Cost rows in Postgres: 42 for 42 billed answers" in out
    _line(out, r"^  pattern answers +4  \$0\.000000  ")
    _line(out, r"^  cache hits +3  \$0\.000000  repeat wave: 3 of 3 from the response cache$")
    _line(out, r"^  redactions +3  findings: email 2, phone 1$")
    _line(out, r"^  rejections +1  prompt_injection 1 \(1 expected\)$")
    routed = _line(out, r"^  auto-routed +4  models: (.*)$").group(1)
    assert {"claude-haiku-4-5 1", "claude-opus-5-5 1", "gpt-6.1-terra 1", "gpt-5.4-mini 1"} == set(
        routed.split(", ")
    )
    _line(out, r"^    complexity:large +→ claude-opus-5-5 1 ")
    savings = _line(out, r"^Savings by lever \(Postgres\): (.*)$").group(1)
    levers = {name: Decimal(amount) for name, amount in re.findall(r"(\w+) \$(-?[\d.]+)", savings)}
    assert levers["pattern"] > 0 and levers["response_cache"] > 0 and levers["batch"] > 0
    _line(out, r"^COMPLETE in [\d.]+s$")
    # The report ends with the console (served by the API the stack started) and its token.
    assert re.search(r"\nConsole: http://127\.0\.0\.1:\d+/\n  sign in with the admin token: "
                     r"\S{20,}\n$", out), out[-400:]  # fmt: skip
