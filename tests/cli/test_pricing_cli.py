"""``frugalflow pricing list|check|import`` in-process, against small hand-written tables.

The tables are written in LiteLLM's format (per-token prices, ``_batches``/``_flex``/
``_priority`` and ``_above_<N>k_tokens`` suffixes); the one "equal to the catalog" is
generated from the catalog itself, so the check has something exact to agree with.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from frugalflow.cli import main
from frugalflow.costing.catalog import PRICING_FILE_ENV, catalog, reload_catalog
from frugalflow.costing.catalog_parse import parse_pricing
from frugalflow.costing.litellm import PROVIDER_KEYS, table_key
from frugalflow.costing.rates import MODES, PER_TOKEN, TOKEN_CLASSES, ModelPrice, Rates

CLASS_FIELDS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_write_5m": "cache_creation_input_token_cost",
    "cache_write_1h": "cache_creation_input_token_cost_above_1hr",
    "cache_write_extended": "cache_creation_input_token_cost_above_12hr",
    "cache_read": "cache_read_input_token_cost",
}
MODE_SUFFIX = {"standard": "", "batch": "_batches", "flex": "_flex", "priority": "_priority"}


@pytest.fixture(autouse=True)
def packaged(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The packaged catalog alone, whatever the environment says; reloaded again after."""
    monkeypatch.delenv(PRICING_FILE_ENV, raising=False)
    reload_catalog()
    yield
    monkeypatch.undo()
    reload_catalog()


def _prices(rates: Rates, band: str, suffix: str) -> dict[str, float]:
    return {CLASS_FIELDS[cls] + band + suffix: float(rates.of(cls)) for cls in TOKEN_CLASSES}


def _litellm_entry(price: ModelPrice) -> dict[str, Any]:
    """What LiteLLM's table would say for ``price`` (every class, resolved)."""
    entry: dict[str, Any] = {
        "litellm_provider": PROVIDER_KEYS[price.provider][1],
        "mode": "chat",
        "max_input_tokens": price.context_window,
    }
    if price.retires:
        entry["deprecation_date"] = price.retires.isoformat()
    for mode, rates in price.modes.items():
        entry |= _prices(rates, "", MODE_SUFFIX[mode])
    if price.long_context:
        band = f"_above_{price.long_context.above_tokens // 1000}k_tokens"
        for mode, rates in price.long_context.modes.items():
            entry |= _prices(rates, band, MODE_SUFFIX[mode])
    return entry


LEFT_OUT = ("claude-opus-4", "claude-sonnet-4")  # retired: LiteLLM drops such models


def _catalog_table() -> dict[str, dict[str, Any]]:
    """The catalog as a LiteLLM table, every model and alias but :data:`LEFT_OUT`."""
    return {
        table_key(price.provider, name): _litellm_entry(price)
        for price in catalog().values()
        if price.model not in LEFT_OUT
        for name in (price.model, *price.aliases)
    }


def _write(tmp_path: Path, table: dict[str, Any], name: str = "prices.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(table))
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["pricing", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- list


def test_list_shows_current_models_and_hides_retired_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "list")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert "claude-sonnet-4-6" in rows and "$3.00" in rows["claude-sonnet-4-6"]
    assert "active" in rows["claude-sonnet-4-6"]
    assert "claude-opus-4" not in rows  # retired on 2026-06-15
    assert "retired models hidden" in out

    code, out, _ = _run(capsys, "list", "--all", "--provider", "anthropic")
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert code == 0 and "claude-opus-4" in rows
    assert rows["claude-opus-4"].split()[-1] == "retired"
    assert "2026-06-15" in rows["claude-opus-4"] and "claude-opus-4-5" in rows["claude-opus-4"]
    assert not [m for m in rows if m.startswith(("gpt-", "gemini-"))]


def test_list_json_has_every_mode_as_strings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "list", "--json", "--provider", "openai")
    assert code == 0
    models = {m["model"]: m for m in json.loads(out)["models"]}
    gpt = models["gpt-5.4"]
    assert gpt["modes"] == ["standard", "batch", "flex", "priority"]
    assert gpt["prices_per_million"]["batch"]["cache_read"] == "0.13"
    assert gpt["long_context"]["above_tokens"] == 272000
    assert gpt["long_context"]["prices_per_million"]["standard"]["output"] == "22.50"
    assert gpt["status"] == "active" and gpt["aliases"] == ["gpt-5.4-2026-03-05"]


def test_list_unknown_provider_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "list", "--provider", "mistral")
    assert code == 2 and "no catalog model of provider 'mistral'" in err


# ---------------------------------------------------------------- check


def test_check_agrees_with_a_table_equal_to_the_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "check", "--against", str(_write(tmp_path, _catalog_table())))
    assert code == 0, out
    assert "0 unexplained: the catalog agrees with the table" in out
    # The two retired models left out of the table are reported, and explained.
    assert "Catalog models the table does not list: 2 (all explained)" in out
    assert "retired on 2026-06-15 (tables drop retired models)" in out


def test_check_names_a_price_difference_and_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = _catalog_table()
    table["gemini/gemini-3.5-flash"]["cache_read_input_token_cost_flex"] = 9e-08
    code, out, _ = _run(capsys, "check", "--against", str(_write(tmp_path, table)))
    assert code == 3, out
    assert "Price differences: 1 (1 unexplained)" in out
    assert "gemini-3.5-flash: flex cache_read: table $0.09, catalog $0.08 per million" in out

    code, out, _ = _run(capsys, "check", "--against", str(_write(tmp_path, table)), "--json")
    document = json.loads(out)
    assert code == 3 and document["unexplained"] == 1
    [price] = [f for f in document["findings"] if f["kind"] == "price"]
    assert price["model"] == "gemini-3.5-flash" and not price["explained"]


def test_check_reports_a_new_table_model_unless_not_carried_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = _catalog_table()
    table["gpt-7"] = {**table["gpt-5.4"]}
    table["gpt-7-pro"] = {**table["gpt-5.4"], "mode": "responses"}  # Responses API only
    code, out, _ = _run(capsys, "check", "--against", str(_write(tmp_path, table)))
    assert code == 3
    assert "Table models the catalog does not carry: 2 (1 unexplained)" in out
    assert "  gpt-7: openai: the table lists 'gpt-7' (chat)" in out
    assert "explained: Pro models are served only by the Responses API" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read a JSON price table"),
        ("{not json", "cannot read a JSON price table"),
        ("[1, 2]", "expected an object of model entries"),
        ('{"some-model": {"mode": "chat"}}', "not a LiteLLM price table"),
    ],
    ids=["missing", "not-json", "not-an-object", "no-provider-model"],
)
def test_check_bad_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "table.json"
    if content is not None:
        path.write_text(content)
    code, out, err = _run(capsys, "check", "--against", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"frugalflow: {path}") and message in err


# ---------------------------------------------------------------- import

NEW_MODEL = {  # a model the catalog does not have, as LiteLLM would list it
    "litellm_provider": "openai",
    "mode": "chat",
    "max_input_tokens": 400000,
    "deprecation_date": "2027-09-01",
    "input_cost_per_token": 1.5e-06,
    "output_cost_per_token": 9e-06,
    "cache_read_input_token_cost": 1.5e-07,
    "input_cost_per_token_batches": 7.5e-07,
    "output_cost_per_token_batches": 4.5e-06,
    "cache_read_input_token_cost_batches": 7.5e-08,  # a batch fragment alone is not a mode:
    "cache_read_input_token_cost_flex": 7.5e-08,  # no flex input nor output here
    "input_cost_per_token_above_200k_tokens": 3e-06,
    "output_cost_per_token_above_200k_tokens": 1.35e-05,
    "input_cost_per_token_above_200k_tokens_batches": 1.5e-06,
    "output_cost_per_token_above_200k_tokens_batches": 6.75e-06,
}


def test_import_writes_an_override_that_loads_and_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _catalog_table() | {"gpt-test-1": NEW_MODEL}
    source = _write(tmp_path, table)
    output = tmp_path / "override.yaml"
    code, out, err = _run(
        capsys, "import", "--from", str(source), "--models", "gpt-test-1",
        "gemini-3.1-pro-preview", "claude-sonnet-4-6", "--output", str(output),
    )  # fmt: skip
    assert code == 0, err
    assert out == "" and f"wrote 3 entries to {output}" in err
    text = output.read_text()
    assert text.startswith("# Pricing override written by `frugalflow pricing import`")
    assert PRICING_FILE_ENV in text.split("models:")[0]

    loaded = parse_pricing(text, str(output))
    new = loaded["gpt-test-1"]
    assert new.provider == "openai" and new.context_window == 400000
    assert str(new.retires) == "2027-09-01" and str(source) in (new.note or "")
    assert list(new.modes) == ["standard", "batch"]
    assert new.rates("standard").input * PER_TOKEN == Decimal("1.50")
    assert new.rates("batch").cache_read * PER_TOKEN == Decimal("0.075")
    assert new.rates("batch", 200_001).output * PER_TOKEN == Decimal("6.75")
    # Entries imported from the catalog's own prices bill exactly as the catalog does.
    for model in ("gemini-3.1-pro-preview", "claude-sonnet-4-6"):
        ours, theirs = catalog()[model], loaded[model]
        assert theirs.provider == ours.provider
        for mode in MODES:
            assert theirs.offers(mode) == ours.offers(mode), (model, mode)
            for tokens in (0, 1_000_000) if ours.offers(mode) else ():
                assert theirs.rates(mode, tokens) == ours.rates(mode, tokens), (model, mode)

    # The file is a working override: the worker's catalog now has the new model.
    monkeypatch.setenv(PRICING_FILE_ENV, str(output))
    assert reload_catalog()["gpt-test-1"].rates("standard").output * PER_TOKEN == 9

    # It is not overwritten without --force.
    code, _, err = _run(capsys, "import", "--from", str(source), "--models", "gpt-test-1",
                        "--output", str(output))  # fmt: skip
    assert code == 2 and "exists; --force replaces it" in err
    code, _, _ = _run(capsys, "import", "--from", str(source), "--models", "gpt-test-1",
                      "--output", str(output), "--force")  # fmt: skip
    assert code == 0


def test_import_to_stdout_strips_the_gemini_prefix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(tmp_path, _catalog_table())
    code, out, _ = _run(capsys, "import", "--from", str(source),
                        "--models", "gemini/gemini-3.5-flash")  # fmt: skip
    assert code == 0
    assert list(parse_pricing(out, "stdout")) == ["gemini-3.5-flash"]


@pytest.mark.parametrize(
    ("models", "extra", "message"),
    [
        (["gpt-nope"], [], "'gpt-nope' is not a model of anthropic, openai, gemini or cerebras"),
        (["gpt-5.4"], ["--provider", "anthropic"], "'gpt-5.4' is not a model of anthropic"),
        (["gpt-5.4-2026-03-05"], [], "is an alias of 'gpt-5.4' in the catalog"),
        (["gpt-broken"], [], "cannot import 'gpt-broken': gpt-broken: the table has no "
                             "standard input and output price"),
    ],
    ids=["unknown", "wrong-provider", "alias", "unconvertible"],
)  # fmt: skip
def test_import_refuses_what_it_cannot_write(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    models: list[str],
    extra: list[str],
    message: str,
) -> None:
    broken = {"litellm_provider": "openai", "mode": "chat", "output_cost_per_token": 1e-06}
    source = _write(tmp_path, _catalog_table() | {"gpt-broken": broken})
    output = tmp_path / "override.yaml"
    code, out, err = _run(capsys, "import", "--from", str(source), "--models", *models,
                          "--output", str(output), *extra)  # fmt: skip
    assert code == 2 and out == ""
    assert message in err
    assert not output.exists()
