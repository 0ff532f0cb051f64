"""``frugalflow pricing``: the catalog, its check against a LiteLLM table, override files.

``list`` shows what the worker bills (packaged catalog plus ``FRUGALFLOW_PRICING_FILE``);
``check`` compares it with a LiteLLM price table (app/costing/pricing_check.py) and exits
3 on an unexplained finding, so a scheduled job notices a provider's price change;
``import`` writes an override file from table entries, so a new model or price can be
billed before the packaged catalog catches up. An unreadable or invalid file exits 2.
None of them needs the worker's settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from frugalflow.cli_reports.table import Column, render_table, to_json
from frugalflow.costing.catalog import PRICING_FILE_ENV, PricingConfigError, aliases, catalog
from frugalflow.costing.catalog_parse import parse_pricing
from frugalflow.costing.litellm import PROVIDER_KEYS, PriceTableError, entry_for, load_table
from frugalflow.costing.pricing_check import KIND_TITLES, KINDS, Finding, check_pricing, unexplained
from frugalflow.costing.pricing_import import PricingImportError, catalog_entry, money
from frugalflow.costing.rates import PER_TOKEN, TOKEN_CLASSES, ModelPrice, Rates

EXIT_USAGE = 2
EXIT_UNEXPLAINED = 3


def add_pricing_commands(sub: argparse._SubParsersAction[Any]) -> None:
    pricing = sub.add_parser("pricing", help="the pricing catalog: list, check, import")
    commands = pricing.add_subparsers(
        dest="pricing_command", required=True, parser_class=type(pricing)
    )

    listing = commands.add_parser("list", help="the catalog's models, prices and life cycle")
    listing.add_argument("--provider", help="one provider (anthropic, openai, gemini, ...)")
    listing.add_argument("--all", action="store_true", help="include retired models")
    listing.add_argument("--json", action="store_true", help="one JSON document")

    check = commands.add_parser(
        "check", help="compare the catalog with a LiteLLM price table (exit 3: differences)"
    )
    check.add_argument("--against", required=True, metavar="FILE",
                       help="LiteLLM's model_prices_and_context_window.json")  # fmt: skip
    check.add_argument("--json", action="store_true", help="one JSON document")

    imports = commands.add_parser(
        "import", help=f"write an override file ({PRICING_FILE_ENV}) from a LiteLLM table"
    )
    imports.add_argument("--from", dest="source", required=True, metavar="FILE",
                         help="LiteLLM's model_prices_and_context_window.json")  # fmt: skip
    imports.add_argument("--models", nargs="+", required=True, metavar="M",
                         help="model ids as the table has them (gemini/ optional)")  # fmt: skip
    imports.add_argument("--provider", choices=sorted(PROVIDER_KEYS),
                         help="default: the table entry's litellm_provider")  # fmt: skip
    imports.add_argument("--output", default="-", help="file to write, '-' for stdout (default)")
    imports.add_argument("--force", action="store_true", help="replace an existing --output")


def run_pricing(args: argparse.Namespace) -> int:
    try:
        if args.pricing_command == "list":
            return _list(args.provider, show_all=args.all, as_json=args.json)
        if args.pricing_command == "check":
            return _check(Path(args.against), as_json=args.json)
        return _import(args)
    except (PriceTableError, PricingConfigError) as exc:
        return _usage(str(exc))


def _usage(message: str) -> int:
    print(f"frugalflow: {message}", file=sys.stderr)
    return EXIT_USAGE


def _today() -> date:
    return datetime.now(UTC).date()


# ---------------------------------------------------------------- list


def _per_million(rates: Rates) -> dict[str, str]:
    return {cls: money(rates.of(cls) * PER_TOKEN) for cls in TOKEN_CLASSES}


def _listed(price: ModelPrice, today: date) -> dict[str, Any]:
    long = price.long_context
    long_doc = long and {
        "above_tokens": long.above_tokens,
        "prices_per_million": {mode: _per_million(r) for mode, r in long.modes.items()},
    }
    return {
        "model": price.model,
        "provider": price.provider,
        "tier": price.tier,
        "routable": price.routable,
        "aliases": list(price.aliases),
        "context_window": price.context_window,
        "min_cacheable_tokens": price.min_cacheable_tokens,
        "effective": price.effective,
        "modes": list(price.modes),
        "prices_per_million": {mode: _per_million(r) for mode, r in price.modes.items()},
        "long_context": long_doc,
        "deprecated": price.deprecated,
        "retires": price.retires,
        "successor": price.successor,
        "status": price.status_on(today),
        "note": price.note,
    }


LIST_COLUMNS = (
    Column("model"), Column("provider"), Column("tier"), Column("modes"),
    Column("input/M", "num"), Column("output/M", "num"), Column("read/M", "num"),
    Column("long ctx", "num"), Column("deprecated"), Column("retires"), Column("successor"),
    Column("status"),
)  # fmt: skip


def _row(price: ModelPrice, today: date) -> list[Any]:
    prices = _per_million(price.standard)
    long = price.long_context
    return [
        price.model, price.provider, price.tier, ",".join(price.modes),
        f"${prices['input']}", f"${prices['output']}", f"${prices['cache_read']}",
        f">{long.above_tokens // 1000}k" if long else None,
        price.deprecated, price.retires, price.successor, price.status_on(today),
    ]  # fmt: skip


def _list(provider: str | None, *, show_all: bool, as_json: bool) -> int:
    today = _today()
    models = list(catalog().values())
    if provider is not None:
        known = sorted({p.provider for p in models})
        if provider not in known:
            return _usage(f"no catalog model of provider {provider!r} (one of {known})")
        models = [p for p in models if p.provider == provider]
    hidden = [p for p in models if p.status_on(today) == "retired"]
    if not show_all:
        models = [p for p in models if p not in hidden]
    if as_json:
        print(to_json({"today": today, "models": [_listed(p, today) for p in models]}))
        return 0
    print(render_table(LIST_COLUMNS, [_row(p, today) for p in models]))
    print(f"\n{len(models)} models, standard mode prices per million tokens, on {today}.")
    if hidden and not show_all:
        print(f"{len(hidden)} retired models hidden (--all shows them).")
    return 0


# ---------------------------------------------------------------- check


def _check(path: Path, *, as_json: bool) -> int:
    today = _today()
    table = load_table(path)
    models = catalog()
    findings = check_pricing(table, models, day=today, source=str(path))
    open_ones = unexplained(findings)
    if as_json:
        print(to_json({
            "table": str(path), "day": today, "models_checked": len(models),
            "findings": [asdict(f) for f in findings], "unexplained": len(open_ones),
        }))  # fmt: skip
    else:
        print(f"Checked {len(models)} catalog models against {path} "
              f"({len(table):,} entries) on {today}.")  # fmt: skip
        for kind in KINDS:
            group = [f for f in findings if f.kind == kind]
            if group:
                print(_render_group(KIND_TITLES[kind], group))
        verdict = ("the catalog agrees with the table" if not open_ones else
                   "update the catalog, not_carried.yaml or the override file")  # fmt: skip
        print(f"\n{len(findings)} findings, {len(open_ones)} unexplained: {verdict}.")
    return EXIT_UNEXPLAINED if open_ones else 0


def _render_group(title: str, group: list[Finding]) -> str:
    """Unexplained findings first, one a line; then the explained ones under their reason."""
    open_ones = unexplained(group)
    state = "all explained" if not open_ones else f"{len(open_ones)} unexplained"
    lines = [f"\n{title}: {len(group)} ({state})"]
    lines += [f"  {f.model}: {f.detail}" for f in open_ones]
    by_reason: dict[str, list[Finding]] = {}
    for finding in group:
        if finding.explained:
            by_reason.setdefault(finding.reason or "", []).append(finding)
    for reason, explained in by_reason.items():
        lines.append(f"  explained: {reason}")
        lines += [f"    {f.model}: {f.detail}" for f in explained]
    return "\n".join(lines)


# ---------------------------------------------------------------- import


def _find(
    table: Mapping[str, Mapping[str, Any]], name: str, provider: str | None
) -> tuple[str, str, Mapping[str, Any]] | None:
    """(provider, model id, entry) of ``name`` on one of our providers' own API."""
    for candidate, (prefix, _) in PROVIDER_KEYS.items():
        if provider not in (None, candidate):
            continue
        model = name.removeprefix(prefix) if prefix else name
        entry = entry_for(table, candidate, model)
        if entry is not None:
            return candidate, model, entry
    return None


def _header(path: Path, today: date) -> str:
    return (
        f"# Pricing override written by `frugalflow pricing import` on {today} from\n"
        f"#   {path}\n"
        f"# Use it: set {PRICING_FILE_ENV} to this file's path in the workers' environment.\n"
        "# Each entry replaces the packaged entry of the same model as a whole, keeping its\n"
        "# tier, routable, deprecated, retires and successor when left out, or adds a model\n"
        "# (add `tier:` to let the router pick it). Shape: app/costing/catalog_parse.py.\n"
    )


class _FlowMap(dict[str, str]):
    """One mode's prices, written on one line as catalog.yaml writes them."""


class _Dumper(yaml.SafeDumper):
    """yaml.safe_dump's dumper, plus :class:`_FlowMap` written on one line."""


_Dumper.add_representer(
    _FlowMap, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def _one_line_modes(entry: dict[str, Any]) -> dict[str, Any]:
    prices = {m: _FlowMap(c) for m, c in entry["prices"].items()}
    out = {**entry, "prices": prices}
    if "long_context" in entry:
        long = entry["long_context"]
        out["long_context"] = {
            **long,
            "prices": {m: _FlowMap(c) for m, c in long["prices"].items()},
        }
    return out


def _yaml(entries: dict[str, dict[str, Any]]) -> str:
    doc = {"models": {m: _one_line_modes(e) for m, e in entries.items()}}
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=150, allow_unicode=True)


def _import(args: argparse.Namespace) -> int:
    today = _today()
    path = Path(args.source)
    table = load_table(path)
    source = f"the LiteLLM price table {path} (imported {today})"
    try:
        known_aliases = aliases()
    except PricingConfigError:
        known_aliases = {}  # a broken override file is no reason not to write a new one
    entries: dict[str, dict[str, Any]] = {}
    for name in args.models:
        found = _find(table, name, args.provider)
        if found is None:
            *others, last = PROVIDER_KEYS
            where = args.provider or f"{', '.join(others)} or {last}"
            return _usage(f"{name!r} is not a model of {where} in {path}")
        provider, model, entry = found
        if model in known_aliases:
            return _usage(f"{model!r} is an alias of {known_aliases[model]!r} in the catalog: "
                          f"import {known_aliases[model]!r} instead")  # fmt: skip
        try:
            entries[model] = catalog_entry(provider, model, entry, effective=today, source=source)
        except PricingImportError as exc:
            return _usage(f"cannot import {name!r}: {exc}")
    text = _header(path, today) + _yaml(entries)
    output = "<stdout>" if args.output == "-" else args.output
    parse_pricing(text, output)  # what is written loads (PricingConfigError: exit 2)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w" if args.force else "x") as out:
            out.write(text)
    except FileExistsError:
        return _usage(f"{args.output} exists; --force replaces it")
    except OSError as exc:
        return _usage(f"cannot write {args.output}: {exc}")
    print(f"wrote {len(entries)} entries to {args.output}; use it with "
          f"{PRICING_FILE_ENV}={args.output}", file=sys.stderr)  # fmt: skip
    return 0
