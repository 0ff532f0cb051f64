"""Cross-check the catalog and the calculator against LiteLLM's published price table.

LiteLLM ships ``model_prices_and_context_window_backup.json`` inside its wheel. The
wheel is fetched once with ``pip download --no-deps`` (none of LiteLLM's dependencies
are installed) into ``~/.cache/frugalflow/litellm/<version>/`` and read as a zip.
A failed download fails the test: a cross-check that silently skips checks nothing.

Every disagreement (a price, the batch price, the context window, or a catalog model
LiteLLM does not list for its provider) must be explained in the catalog entry's
``note``, which must mention LiteLLM.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from app.costing.calculator import cost_and_savings
from app.costing.catalog import ModelPrice, catalog
from app.providers.base import Usage

LITELLM_VERSION = "1.109.1"
# Releases after 1.92 ship only platform wheels; pin the tags so every host downloads
# the same file (only its JSON is read, never its code).
WHEEL = f"litellm-{LITELLM_VERSION}-cp310-abi3-manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "1c8b4dd671fa0cd0850aa751678704ff77e595fb1e6085b2dc3be39ee19bdaaf"
JSON_MEMBER = "litellm/model_prices_and_context_window_backup.json"
CACHE_DIR = Path.home() / ".cache" / "frugalflow" / "litellm" / LITELLM_VERSION

# Our provider name -> (LiteLLM key prefix, LiteLLM's litellm_provider for that API).
# Gemini uses the Gemini API's keys ("gemini/..."); bare "gemini-..." keys are Vertex AI.
PROVIDER_KEYS = {
    "anthropic": ("", "anthropic"),
    "openai": ("", "openai"),
    "gemini": ("gemini/", "gemini"),
}
MILLION = 1_000_000


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download_wheel() -> Path:
    target = CACHE_DIR / WHEEL
    if target.is_file() and _sha256(target) == WHEEL_SHA256:
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        cmd = [
            sys.executable, "-m", "pip", "download", f"litellm=={LITELLM_VERSION}",
            "--no-deps", "--only-binary=:all:", "--platform", "manylinux_2_28_x86_64",
            "--implementation", "cp", "--python-version", "3.10", "--abi", "abi3",
            "--disable-pip-version-check", "--quiet", "-d", tmp,
        ]  # fmt: skip
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.fail(f"could not download litellm=={LITELLM_VERSION} from PyPI: {exc}")
        fetched = Path(tmp) / WHEEL
        if done.returncode != 0 or not fetched.is_file():
            pytest.fail(
                f"could not download litellm=={LITELLM_VERSION} ({WHEEL}) from PyPI "
                f"(pip exit {done.returncode}); the LiteLLM cross-check needs PyPI access.\n"
                f"{done.stderr[-2000:]}"
            )
        digest = _sha256(fetched)
        if digest != WHEEL_SHA256:
            pytest.fail(f"{WHEEL} has sha256 {digest}, expected {WHEEL_SHA256}")
        shutil.move(fetched, target)
    return target


@cache
def litellm_table() -> dict[str, dict[str, Any]]:
    wheel = _download_wheel()
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        if JSON_MEMBER not in names:
            candidates = [n for n in names if "model_prices" in n]
            pytest.fail(f"{JSON_MEMBER} is not in {wheel.name}; candidates: {candidates}")
        table: dict[str, dict[str, Any]] = json.loads(zf.read(JSON_MEMBER))
    return table


def _dec(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def litellm_entries(price: ModelPrice) -> dict[str, dict[str, Any]]:
    """LiteLLM's entries for a catalog model: its id and every alias, same provider only."""
    prefix, provider = PROVIDER_KEYS[price.provider]
    table = litellm_table()
    found = {}
    for name in (price.model, *price.aliases):
        entry = table.get(prefix + name)
        if entry is not None and entry.get("litellm_provider") == provider:
            found[prefix + name] = entry
    return found


def _per_token(
    usage: Usage, price: ModelPrice, *, batch: bool = False, ttl_1h: bool = False
) -> Decimal:
    """What the calculator bills for one million tokens of one class, per token."""
    cost, _, _ = cost_and_savings(
        usage, model=price.model, requested_model=price.model, batch=batch, cache_ttl_1h=ttl_1h
    )
    return cost / MILLION


INPUT = Usage(input_tokens=MILLION)
OUTPUT = Usage(output_tokens=MILLION)
WRITE = Usage(cache_write_tokens=MILLION)
READ = Usage(cache_read_tokens=MILLION)

Ours = Callable[[ModelPrice], Decimal]
CHECKS: dict[str, tuple[str, Ours]] = {
    "input": ("input_cost_per_token", lambda p: _per_token(INPUT, p)),
    "output": ("output_cost_per_token", lambda p: _per_token(OUTPUT, p)),
    "cache_read": ("cache_read_input_token_cost", lambda p: _per_token(READ, p)),
    "cache_write_5m": ("cache_creation_input_token_cost", lambda p: _per_token(WRITE, p)),
    "cache_write_1h": (
        "cache_creation_input_token_cost_above_1hr",
        lambda p: _per_token(WRITE, p, ttl_1h=True),
    ),
    "batch input": ("input_cost_per_token_batches", lambda p: _per_token(INPUT, p, batch=True)),
    "batch output": (
        "output_cost_per_token_batches",
        lambda p: _per_token(OUTPUT, p, batch=True),
    ),
    "context_window": ("max_input_tokens", lambda p: Decimal(p.context_window)),
}


def disagreements(price: ModelPrice) -> list[str]:
    entries = litellm_entries(price)
    if not entries:
        return [f"LiteLLM {LITELLM_VERSION} has no {price.provider} entry for {price.model}"]
    found = []
    for key, entry in entries.items():
        for what, (field, ours) in CHECKS.items():
            if entry.get(field) is None:
                continue  # LiteLLM does not publish this figure for the model
            theirs, mine = _dec(entry[field]), ours(price)
            if theirs != mine:
                found.append(f"{key}: {what} LiteLLM {theirs} vs ours {mine}")
    return found


def test_litellm_table_is_the_pinned_release() -> None:
    table = litellm_table()
    assert len(table) > 1000
    for key in ("claude-sonnet-4-5", "gpt-4o", "gemini/gemini-2.5-pro"):
        assert key in table


def test_cross_check_reaches_most_of_the_catalog() -> None:
    # Guards the name mapping: a broken mapping would make every model "unknown".
    known = [m for m, p in catalog().items() if litellm_entries(p)]
    for model in ("claude-haiku-4-5", "claude-sonnet-4-5", "gpt-4o-mini", "gpt-4o"):
        assert model in known
    for provider in PROVIDER_KEYS:
        assert any(catalog()[m].provider == provider for m in known), provider
    assert len(known) >= len(catalog()) * 2 // 3


def test_aliases_agree_with_litellm_where_it_lists_them() -> None:
    checked = 0
    for price in catalog().values():
        prefix, _ = PROVIDER_KEYS[price.provider]
        for alias in price.aliases:
            entry = litellm_entries(price).get(prefix + alias)
            if entry is not None:
                checked += 1
                assert _dec(entry["input_cost_per_token"]) == price.input, alias
                assert _dec(entry["output_cost_per_token"]) == price.output, alias
    assert checked >= 5


@pytest.mark.parametrize("model", sorted(catalog()))
def test_every_disagreement_with_litellm_is_explained(model: str) -> None:
    price = catalog()[model]
    found = disagreements(price)
    if found:
        detail = "\n  ".join(found)
        assert price.note and "LiteLLM" in price.note, (
            f"{model} disagrees with LiteLLM {LITELLM_VERSION} and its catalog note does "
            f"not explain why (add a `note` mentioning LiteLLM):\n  {detail}"
        )
