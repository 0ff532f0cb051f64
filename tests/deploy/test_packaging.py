"""The distribution installs the app/ folder as the package `frugalflow` (issue 18): every
folder under app/ is listed in `[tool.setuptools] packages`, every kind of data file is
in the package data, and no code or config still names the module `app`."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def folders() -> set[str]:
    """Every folder under app/ holding files, as the dotted name it is installed under."""
    names = {"frugalflow"}
    for d in APP.rglob("*"):
        rel = d.relative_to(APP)
        if not d.is_dir() or any(p.startswith(("__", ".")) for p in rel.parts):
            continue
        if any(f.is_file() for f in d.rglob("*") if "__pycache__" not in f.parts):
            names.add(".".join(("frugalflow", *rel.parts)))
    return names


def test_app_folder_is_installed_as_frugalflow() -> None:
    setuptools = pyproject()["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"frugalflow": "app"}
    assert set(setuptools["packages"]) == folders()
    assert not any(p == "app" or p.startswith("app.") for p in setuptools["packages"])


def test_every_data_file_is_package_data() -> None:
    globs: list[str] = pyproject()["tool"]["setuptools"]["package-data"]["frugalflow"]
    data = [
        f.relative_to(APP).as_posix()
        for f in APP.rglob("*")
        if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".py"
    ]
    assert data
    for path in data:
        assert any(
            fnmatch.fnmatch(path, g) or fnmatch.fnmatch(path, g.removeprefix("**/")) for g in globs
        ), path


def test_tools_name_the_frugalflow_package() -> None:
    config = pyproject()
    assert config["project"]["scripts"]["frugalflow"] == "frugalflow.cli:main"
    assert config["tool"]["mypy"]["packages"] == ["frugalflow"]
    link = ROOT / config["tool"]["mypy"]["mypy_path"] / "frugalflow"
    assert link.is_symlink() and link.resolve() == APP.resolve()


MODULES = sorted(
    (p.stem if p.is_file() else p.name)
    for p in APP.iterdir()
    if (p.is_file() and p.suffix == ".py" and not p.stem.startswith("__"))
    or (p / "__init__.py").is_file()
)
MODULE_REF = re.compile(
    r"^\s*(from app(\.\w+)* import |import app(\.\w+)*\b)"
    rf"|[\"']app\.({'|'.join(MODULES)})\b"
)


@pytest.mark.parametrize("folder", ["app", "tests"])
def test_no_python_module_reference_to_app(folder: str) -> None:
    """`from app...`, `import app...` and "app.x" strings would import a second copy of the
    code (from the source tree, not the installed package), or nothing once installed."""
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if MODULE_REF.search(line) and not line.lstrip().startswith("#")
    ]
    assert found == []
