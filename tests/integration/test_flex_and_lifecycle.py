"""The flex path and model life cycle end to end: a worker, Apache Kafka, Postgres and the
provider emulator behind the official OpenAI SDK.

* a request that may wait minutes goes to OpenAI's flex tier: answered ``path: flex``,
  billed at flex prices, the difference on the ``flex`` lever (in Postgres too);
* while the flex tier refuses, it is retried, then served on the standard tier in time;
* a model past its retirement date is rejected ``model_retired``; one past its
  deprecation date is served and raises one ``model_deprecated`` alert per tenant.
"""

from __future__ import annotations

from decimal import Decimal

from tests.integration.harness import Deployment, EmulatorFaults, request

FLEX = {"model": "gpt-5.4", "priority": "batch", "deadline_s": 900}


async def test_flex_path_retries_and_lifecycle(
    deployment: Deployment, faults: EmulatorFaults
) -> None:
    run = deployment.prefix.rstrip(".")
    deployment.extra_env["FRUGALFLOW_FLEX_WAIT_S"] = "4"
    deployment.start_worker()
    await faults.set(flex_latency_ms=50, flex_refuse_next_n=1, flex_refusal_rate=0.0)

    # 1. Refused once, retried, answered on the flex tier.
    await deployment.publish([request(f"{run}-flex", "acme", **FLEX)])
    [flex] = await deployment.read("llm.responses", until=1, timeout=90)
    assert (flex["status"], flex["path"], flex["model"]) == ("ok", "flex", "gpt-5.4")

    # 2. Refused for longer than the flex budget: served on the standard tier, in time.
    await faults.set(flex_refuse_next_n=1000)
    await deployment.publish([request(f"{run}-standard", "acme", **FLEX)])
    # 3. Life cycle: retired, and deprecated (twice: one alert).
    await deployment.publish([
        request(f"{run}-retired", "acme", model="claude-sonnet-4-5"),
        request(f"{run}-old-1", "acme", model="gpt-5"),
        request(f"{run}-old-2", "acme", model="gpt-5"),
    ])  # fmt: skip
    answers = {a["request_id"]: a for a in await deployment.read("llm.responses", until=5)}
    standard = answers[f"{run}-standard"]
    assert (standard["status"], standard["path"]) == ("ok", "immediate")
    assert "flex tier unavailable (provider_rate_limited x" in standard["route_reason"]
    assert "served on the standard tier" in standard["route_reason"]
    retired = answers[f"{run}-retired"]
    assert (retired["status"], retired["error"]["code"]) == ("rejected", "model_retired")
    assert "use 'claude-sonnet-4-6' instead" in retired["error"]["message"]
    assert answers[f"{run}-old-1"]["status"] == answers[f"{run}-old-2"]["status"] == "ok"
    alerts = await deployment.read("llm.alerts", until=1)
    deprecated = [a for a in alerts if a["kind"] == "model_deprecated"]
    assert len(deprecated) == 1 and deprecated[0]["tenant_id"] == "acme"
    assert (
        "retires on 2026-12-11" in deprecated[0]["detail"] and "gpt-5.4" in deprecated[0]["detail"]
    )

    # Costs: flex at flex prices with its lever, standard at standard prices, exact sums.
    rows = {r["request_id"]: r for r in await deployment.wait_cost_rows(f"{run}-%", 4)}
    flex_row, standard_row = rows[f"{run}-flex"], rows[f"{run}-standard"]
    assert flex_row["path"] == "flex" and flex_row["savings_flex"] > 0
    assert standard_row["path"] == "immediate" and standard_row["savings_flex"] == 0
    for row in (flex_row, standard_row):
        levers = sum(Decimal(row[f"savings_{lever}"]) for lever in (
            "batch", "prompt_cache", "response_cache", "pattern", "routing", "flex"))  # fmt: skip
        assert row["cost_usd"] + levers == row["baseline_cost_usd"]
    # the same tokens cost half on flex ($1.25 / $7.50 against $2.50 / $15 per million)
    per_token = {
        r: row["cost_usd"] / (row["input_tokens"] * 2 + row["output_tokens"] * 12)
        for r, row in ((f"{run}-flex", flex_row), (f"{run}-standard", standard_row))
    }
    assert per_token[f"{run}-standard"] == per_token[f"{run}-flex"] * 2
