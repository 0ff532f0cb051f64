"""A small Dockerfile lint (hadolint is not available here): stages, what each installs,
a non-root user, the healthcheck, the entrypoint, and the build context (.dockerignore)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stage:
    image: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) with continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    assert not current, "dangling line continuation"
    parsed = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        parsed.append((keyword.upper(), args.strip()))
    return parsed


def stages() -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    found: list[Stage] = []
    for keyword, rest in instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "ARG" and not found:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.IGNORECASE)
            assert match, rest
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], match[1])
            found.append(Stage(image=image, name=match[2] or ""))
        else:
            assert found, f"{keyword} before FROM"
            found[-1].instructions.append((keyword, rest))
    return args, found


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list)
    return [str(v) for v in value]


def test_multi_stage_build_on_python_slim() -> None:
    _, found = stages()
    assert [s.name for s in found] == ["builder", "runtime"]
    assert all(s.image == "python:3.11-slim" for s in found)


def test_builder_installs_only_the_runtime_package() -> None:
    _, (builder, _runtime) = stages()
    runs = " ".join(builder.all("RUN"))
    assert "python -m venv /opt/venv" in runs
    assert re.search(r"pip install \.(\s|$)", runs)
    assert "[local" not in runs and "[dev" not in runs and "-e " not in runs
    copied = " ".join(builder.all("COPY"))
    for needed in ("pyproject.toml", "README.md", "app"):
        assert needed in copied


def test_runtime_copies_the_venv_and_topics() -> None:
    _, (_builder, runtime) = stages()
    copies = runtime.all("COPY")
    assert "--from=builder /opt/venv /opt/venv" in copies
    assert not any("--from" not in c and c.split()[0] in ("app", ".") for c in copies)
    topics_copy = next(c for c in copies if c.startswith("topics/"))
    destination = topics_copy.split()[-1]
    env = " ".join(runtime.all("ENV"))
    topics_file = re.search(r"FRUGALFLOW_TOPICS_FILE=(\S+)", env)
    assert topics_file, "FRUGALFLOW_TOPICS_FILE must point at the copied topics.yaml"
    assert topics_file[1] == destination and destination.endswith("topics.yaml")
    assert "/opt/venv/bin" in env
    runs = " ".join(runtime.all("RUN"))
    assert "pip install" not in runs and "apt-get" not in runs


def test_runtime_runs_as_non_root() -> None:
    _, found = stages()
    users = found[-1].all("USER")
    assert users, "the runtime stage must switch to a non-root USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    if user.isdigit():
        assert int(user) >= 1000
    runs = " ".join(found[-1].all("RUN"))
    assert f"--uid {user}" in runs or f"useradd {user}" in runs


def test_healthcheck_probes_metrics_without_curl() -> None:
    _, found = stages()
    [check] = found[-1].all("HEALTHCHECK")
    options, _, command = check.partition("CMD")
    assert "--interval=" in options and "--timeout=" in options
    argv = exec_form(command.strip())
    assert argv[:2] == ["python", "-c"]
    assert "urllib.request" in argv[2] and "/metrics" in argv[2]
    assert "FRUGALFLOW_WEB_PORT" in argv[2]
    assert "curl" not in check


def test_entrypoint_is_the_cli_and_defaults_to_worker() -> None:
    _, found = stages()
    runtime = found[-1]
    assert exec_form(runtime.all("ENTRYPOINT")[-1]) == ["frugalflow"]
    assert exec_form(runtime.all("CMD")[-1]) == ["worker"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["frugalflow"] == "frugalflow.cli:main"
    env = " ".join(runtime.all("ENV"))
    port = re.search(r"FRUGALFLOW_WEB_PORT=(\d+)", env)
    assert port and runtime.all("EXPOSE") == [port[1]]
    assert "FRUGALFLOW_WEB_HOST=0.0.0.0" in env


@pytest.mark.parametrize("needed", ["pyproject.toml", "README.md", "app", "topics"])
def test_dockerignore_keeps_the_build_inputs(needed: str) -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert needed not in ignored and f"{needed}/" not in ignored
    for pattern in (".git", ".venv", ".env", "var", "tests"):
        assert pattern in ignored
