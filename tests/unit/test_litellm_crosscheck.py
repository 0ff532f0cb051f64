"""Cross-check the catalog against LiteLLM's published price table, pinned to one release.

LiteLLM ships ``model_prices_and_context_window_backup.json`` inside its wheel. The
wheel is fetched once with ``pip download --no-deps`` (none of LiteLLM's dependencies
are installed) into ``~/.cache/frugalflow/litellm/<version>/``, its sha256 checked, and
read as a zip. A failed download fails the test: a cross-check that silently skips
checks nothing.

The comparison is ``frugalflow pricing check`` (app/costing/pricing_check.py): every
price per service mode, context band and token class, the context window and the
shutdown date, for each model and each alias the table lists, plus the table's models
the catalog does not carry. Against the pinned release nothing may be unexplained.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from frugalflow.costing.catalog import PRICING_FILE_ENV, catalog, reload_catalog
from frugalflow.costing.litellm import entry_for, text_models, token_prices
from frugalflow.costing.pricing_check import (
    Finding,
    check_pricing,
    load_not_carried,
    unexplained,
)
from frugalflow.costing.pricing_import import catalog_entry
from frugalflow.costing.rates import PER_TOKEN

LITELLM_VERSION = "1.110.2"
# Releases after 1.92 ship only platform wheels; pin the tags so every host downloads
# the same file (only its JSON is read, never its code).
WHEEL = f"litellm-{LITELLM_VERSION}-cp310-abi3-manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "9d94d1c7d524b6fd10c14f9c8c6c4f0ac31705f9964ac59dcfd8337c046d8917"
JSON_MEMBER = "litellm/model_prices_and_context_window_backup.json"
CACHE_DIR = Path.home() / ".cache" / "frugalflow" / "litellm" / LITELLM_VERSION


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
        doc: dict[str, dict[str, Any]] = json.loads(zf.read(JSON_MEMBER))
    return {k: v for k, v in doc.items() if k != "sample_spec"}


def _today() -> date:
    return datetime.now(UTC).date()


def _listing(findings: list[Finding]) -> str:
    return "\n  ".join(f"{f.kind} {f.model}: {f.detail}" for f in findings)


@pytest.fixture
def packaged(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The packaged catalog alone, whatever the environment says; reloaded again after."""
    monkeypatch.delenv(PRICING_FILE_ENV, raising=False)
    reload_catalog()
    yield
    monkeypatch.undo()
    reload_catalog()


def test_litellm_table_is_the_pinned_release() -> None:
    table = litellm_table()
    assert len(table) > 4000
    for key in ("claude-sonnet-4-6", "gpt-5.4", "gemini/gemini-3.5-flash", "gpt-6-sol"):
        assert key in table, key
    # A model the catalog carries, with the figures of this release.
    assert table["gpt-5.4"]["input_cost_per_token"] == 2.5e-06
    assert table["gpt-5.4"]["max_input_tokens"] == 1_050_000


def test_catalog_has_no_unexplained_finding_against_the_pinned_table(packaged: None) -> None:
    findings = check_pricing(litellm_table(), catalog(), day=_today())
    open_ones = unexplained(findings)
    assert not open_ones, (
        f"{len(open_ones)} unexplained differences with LiteLLM {LITELLM_VERSION} "
        f"(fix app/costing/catalog.yaml, or say why in app/costing/not_carried.yaml):\n  "
        + _listing(open_ones)
    )
    # Guards the name mapping: a broken one would make every catalog model "not in table".
    missing = {f.model for f in findings if f.kind == "not_in_table"}
    assert len(missing) <= len(catalog()) // 4, sorted(missing)


def _override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: dict[str, Any]) -> None:
    path = tmp_path / "pricing.yaml"
    path.write_text(yaml.safe_dump({"models": {"gpt-5.4": entry}}, sort_keys=False))
    monkeypatch.setenv(PRICING_FILE_ENV, str(path))
    reload_catalog()


def _imported(model: str) -> dict[str, Any]:
    entry = litellm_table()[model]
    return catalog_entry("openai", model, entry, effective=_today(), source="test")


@pytest.mark.parametrize(
    ("change", "kind", "detail"),
    [
        (lambda e: e["prices"]["batch"].update(cache_read="0.12"), "price",
         "batch cache_read: table $0.13, catalog $0.12 per million"),
        (lambda e: e["long_context"]["prices"]["standard"].update(output="22.00"), "price",
         "standard above 272k output: table $22.50, catalog $22.00 per million"),
        (lambda e: (e["prices"].pop("flex"), e["long_context"]["prices"].pop("flex")), "price",
         "flex: the table prices it, the catalog does not offer it"),
        (lambda e: e.update(context_window=400000), "context_window",
         "table 1,050,000 input tokens, catalog 400,000"),
        (lambda e: e.update(retires="2027-03-05"), "retirement",
         "table deprecation_date none, catalog retires 2027-03-05"),
    ],
    ids=["price", "long-context-price", "mode", "context-window", "retirement"],
)  # fmt: skip
def test_check_finds_a_changed_catalog(
    packaged: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[dict[str, Any]], object],
    kind: str,
    detail: str,
) -> None:
    entry = _imported("gpt-5.4")
    _override(tmp_path, monkeypatch, entry)
    before = check_pricing(litellm_table(), catalog(), day=_today())
    assert not [f for f in before if f.model == "gpt-5.4" and not f.explained], _listing(before)

    change(entry)
    _override(tmp_path, monkeypatch, entry)
    after = [f for f in check_pricing(litellm_table(), catalog(), day=_today()) if not f.explained]
    seen = {(f.kind, f.model, f.detail) for f in after}
    # The model's own entry and its dated alias's entry both disagree now.
    assert (kind, "gpt-5.4", detail) in seen, _listing(after)
    assert (kind, "gpt-5.4", f"alias gpt-5.4-2026-03-05: {detail}") in seen, _listing(after)


def test_every_alias_the_table_lists_prices_like_its_model(packaged: None) -> None:
    table, checked = litellm_table(), 0
    for price in catalog().values():
        band = price.long_context.above_tokens if price.long_context else None
        for alias in price.aliases:
            entry = entry_for(table, price.provider, alias)
            if entry is None:
                continue
            for key, theirs in token_prices(entry).items():
                if not price.offers(key.mode) or key.band not in (None, band):
                    continue
                tokens = 0 if key.band is None else key.band + 1
                ours = price.rates(key.mode, tokens).of(key.token_class) * PER_TOKEN
                assert ours == theirs, f"{alias} ({price.model}) {key.label()}"
                checked += 1
    assert checked >= 50  # dated snapshots of Claude, GPT-4.x and GPT-5.x


def test_every_not_carried_pattern_explains_a_table_model(packaged: None) -> None:
    """A stale pattern would silently explain a model added later: each one must be used."""
    rules = load_not_carried()
    carried = {(p.provider, n) for p in catalog().values() for n in (p.model, *p.aliases)}
    uncarried = [
        m for (provider, m) in text_models(litellm_table()) if (provider, m) not in carried
    ]

    def first_match(model: str) -> str | None:
        return next((r.pattern for r in rules if fnmatch.fnmatchcase(model, r.pattern)), None)

    used = {first_match(m) for m in uncarried}
    assert [r.pattern for r in rules if r.pattern not in used] == []
