"""The console ships inside the wheel: ``pip install .`` serves it with nothing else."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from frugalflow.console.routes import load_assets

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_every_console_file(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path),
         str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("frugalflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"frugalflow/console/static/{name}" for name in load_assets()}
    assert shipped <= names, sorted(shipped - names)
    for needed in ("index.html", "js/app.js", "vendor/uplot/uPlot.iife.min.js",
                   "vendor/uplot/LICENSE"):  # fmt: skip
        assert f"frugalflow/console/static/{needed}" in names
    assert "frugalflow/sink/migrations/0007_console_activity.sql" in names
    assert not any(name.startswith("app/") for name in names)  # installed as frugalflow
