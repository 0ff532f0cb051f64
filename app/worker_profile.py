"""``FRUGALFLOW_PROFILE_OUT=<path>``: run the worker under yappi and save its profile.

A development aid for ``frugalflow bench …`` (the bench's worker inherits the variable):
yappi attributes CPU time to coroutines across their awaits, which sampling profilers
cannot (an async stack is one frame deep). The CPU clock is used, so waiting on the
broker costs nothing and the figures are what each function spends of the worker's core.

At exit it writes ``<path>`` (pstats format, for ``python -m pstats`` or snakeviz) and
``<path>.txt``: the top functions by own time and by total time, with their share of the
worker's CPU. yappi is a dev dependency: the variable is refused without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROFILE_ENV = "FRUGALFLOW_PROFILE_OUT"
TOP = 40


@contextmanager
def profiled() -> Iterator[None]:
    """Profile the block when ``FRUGALFLOW_PROFILE_OUT`` is set; otherwise do nothing."""
    target = os.environ.get(PROFILE_ENV, "").strip()
    if not target:
        yield
        return
    try:
        import yappi
    except ImportError:
        print(f"frugalflow: {PROFILE_ENV} is set but yappi is not installed (pip install yappi)")
        raise SystemExit(2) from None
    yappi.set_clock_type("cpu")
    yappi.start(builtins=False)
    try:
        yield
    finally:
        yappi.stop()
        _save(yappi, Path(target))


def _save(yappi: object, path: Path) -> None:
    stats = yappi.get_func_stats()  # type: ignore[attr-defined]
    stats.save(str(path), type="pstat")
    rows = list(stats)
    total = sum(r.tsub for r in rows) or 1.0
    lines = [f"worker CPU profiled: {total:.2f} s (yappi, cpu clock)", ""]
    for title, key in (("by own time", "tsub"), ("by total time (callees included)", "ttot")):
        lines += [f"top {TOP} {title}:", f"{'share':>7} {'seconds':>9} {'calls':>9}  function"]
        for r in sorted(rows, key=lambda r: getattr(r, key), reverse=True)[:TOP]:
            value = getattr(r, key)
            where = f"{r.module.rsplit('site-packages/', 1)[-1]}:{r.lineno} {r.name}"
            lines.append(f"{value / total:7.1%} {value:9.3f} {r.ncall:9d}  {where}")
        lines.append("")
    lines += [
        "own time by package:",
        f"{'share':>7} {'seconds':>9}  package",
        *(f"{v / total:7.1%} {v:9.3f}  {k}" for k, v in by_package(rows)),
    ]
    path.with_suffix(path.suffix + ".txt").write_text("\n".join(lines) + "\n")


def by_package(rows: list[object]) -> list[tuple[str, float]]:
    """Own time summed per top-level package (stdlib modules by name): where the CPU goes."""
    totals: dict[str, float] = {}
    for r in rows:
        module = str(r.module)  # type: ignore[attr-defined]
        if "site-packages/" in module:
            name = module.rsplit("site-packages/", 1)[-1].split("/", 1)[0]
        elif "/app/" in module:
            name = module.rsplit("/app/", 1)[-1].split("/", 1)[0].removesuffix(".py")
            name = f"frugalflow.{name}"
        elif "/lib/python3." in module:
            rest = module.rsplit("/lib/python3.", 1)[-1].split("/", 1)[-1]
            name = "stdlib " + rest.split("/", 1)[0].removesuffix(".py")
        else:
            name = module
        totals[name] = totals.get(name, 0.0) + float(r.tsub)  # type: ignore[attr-defined]
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)[:TOP]
