"""Every FrugalFlow variable that the deployment files set is one the code reads.

A misspelt ``FRUGALFLOW_*`` variable is silently ignored by ``Settings`` (extra="ignore"),
so each one set by the Helm chart (ConfigMap and container env), docker-compose.yml,
.env.example or the Dockerfile must map to a ``Settings`` field (``FRUGALFLOW_X`` -> ``x``)
or one of its documented unprefixed aliases; ``FRUGALFLOW_EMULATOR_*`` variables must be
``EmulatorConfig`` fields; and the few variables read straight from ``os.environ`` must
still be read where they are said to be.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml
from pydantic import AliasChoices

from frugalflow.costing.catalog import PRICING_FILE_ENV
from frugalflow.costing.named_prices import OPENAI_COMPATIBLE_ENV
from frugalflow.emulator.config import ENV_CONFIG_FILE, ENV_PREFIX, EmulatorConfig
from frugalflow.metrics import MAX_TENANTS_ENV
from frugalflow.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ALIASES = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "DATABASE_URL",
    "REDIS_URL",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "OPENROUTER_API_KEY",
    "CEREBRAS_API_KEY",
}
# Read with os.environ outside Settings: (variable, module that reads it).
DIRECT = {
    "FRUGALFLOW_TOPICS_FILE": "app/topics.py",
    PRICING_FILE_ENV: "app/costing/catalog.py",
    OPENAI_COMPATIBLE_ENV: "app/costing/named_prices.py",  # also a Settings field
    MAX_TENANTS_ENV: "app/metrics.py",
    ENV_CONFIG_FILE: "app/emulator/config.py",
}
CHART_VALUES: dict[str, Any] = {
    "config": {"emulator_url": "http://emulator:8099", "circuit_cooldown_s": 10},
    "secrets": {
        "database": {"existingSecret": "db"},
        "redis": {"existingSecret": "redis"},
        "providers": {"existingSecret": "keys"},
    },
}
ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def settings_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"FRUGALFLOW_{name.upper()}")
        if isinstance(field.validation_alias, AliasChoices):
            names.update(str(choice) for choice in field.validation_alias.choices)
        elif isinstance(field.validation_alias, str):
            names.add(field.validation_alias)
    return names


def problem(variable: str) -> str | None:
    """Why ``variable`` is not read by FrugalFlow, or None when it is."""
    if variable in settings_names() or variable in DIRECT:
        return None
    if variable.startswith(ENV_PREFIX):
        field = variable.removeprefix(ENV_PREFIX).lower()
        if field in EmulatorConfig.model_fields:
            return None
        return f"{variable}: no EmulatorConfig field {field!r}"
    if variable.startswith("FRUGALFLOW_"):
        field = variable.removeprefix("FRUGALFLOW_").lower()
        return f"{variable}: no Settings field {field!r}"
    return None  # not a FrugalFlow variable


def frugalflow_vars(names: set[str]) -> set[str]:
    return {n for n in names if n.startswith("FRUGALFLOW_") or n in ALIASES}


def chart_variables() -> set[str]:
    with helm.Chart.load(ROOT / "helm" / "frugalflow") as chart:
        rendered = chart.render(CHART_VALUES, name="ff")
    names: set[str] = set()
    for path, text in rendered.items():
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            if doc["kind"] == "ConfigMap":
                names.update(doc["data"])
            if doc["kind"] == "StatefulSet":
                for container in doc["spec"]["template"]["spec"]["containers"]:
                    names.update(e["name"] for e in container.get("env", []))
    return names


def compose_variables() -> set[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    names: set[str] = set()
    for service in compose["services"].values():
        names.update(service.get("environment") or {})
    return names


def env_example_variables() -> set[str]:
    return set(ASSIGNMENT.findall((ROOT / ".env.example").read_text()))


def dockerfile_variables() -> set[str]:
    text = (ROOT / "Dockerfile").read_text()
    return set(re.findall(r"\b(FRUGALFLOW_[A-Z0-9_]+)=", text))


def test_documented_aliases_are_settings_aliases() -> None:
    assert settings_names() >= ALIASES


def test_directly_read_variables_are_still_read() -> None:
    for variable, module in DIRECT.items():
        source = (ROOT / module).read_text()
        constant = variable.removeprefix(ENV_PREFIX) if variable == ENV_CONFIG_FILE else variable
        assert constant in source, f"{variable} is no longer read in {module}"


def test_chart_sets_only_known_variables() -> None:
    found = chart_variables()
    assert {"FRUGALFLOW_PARTITIONS", "FRUGALFLOW_WORKER_ID", "DATABASE_URL"} <= found
    assert "FRUGALFLOW_CIRCUIT_COOLDOWN_S" in found
    problems = [p for v in sorted(frugalflow_vars(found)) if (p := problem(v))]
    assert problems == []


def test_compose_sets_only_known_variables() -> None:
    found = compose_variables()
    assert "FRUGALFLOW_WORKER_ID" in found
    problems = [p for v in sorted(frugalflow_vars(found)) if (p := problem(v))]
    assert problems == []


def test_env_example_lists_only_known_variables() -> None:
    found = env_example_variables()
    assert {"ANTHROPIC_API_KEY", "FRUGALFLOW_EMULATOR_URL", "FRUGALFLOW_PARTITIONS"} <= found
    problems = [p for v in sorted(frugalflow_vars(found)) if (p := problem(v))]
    assert problems == []


def test_dockerfile_sets_only_known_variables() -> None:
    found = dockerfile_variables()
    assert "FRUGALFLOW_TOPICS_FILE" in found
    assert [p for v in sorted(found) if (p := problem(v))] == []


def test_problem_detects_misspellings() -> None:
    assert problem("FRUGALFLOW_PARTITION") is not None
    assert problem("FRUGALFLOW_EMULATOR_LATENCY") is not None
    assert problem("FRUGALFLOW_EMULATOR_LATENCY_MS") is None
    assert problem("FRUGALFLOW_EMULATOR_URL") is None  # a Settings field, not an emulator knob


def test_env_example_documents_every_compose_interpolation() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    assert interpolated, "docker-compose.yml reads no variable?"
    assert interpolated - env_example_variables() == set()


def test_env_example_variables_are_all_used() -> None:
    compose_text = (ROOT / "docker-compose.yml").read_text()
    unused = {
        v
        for v in env_example_variables()
        if not frugalflow_vars({v})
        and v != "COMPOSE_PROJECT_NAME"  # read by docker compose itself
        and f"${{{v}" not in compose_text
    }
    assert unused == set()


def test_env_example_leaves_provider_keys_unset() -> None:
    # Keys stay commented out: the example must never look like it ships a credential.
    active = re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M)
    keys = {"OPENROUTER_API_KEY", "CEREBRAS_API_KEY", "FRUGALFLOW_OPENAI_COMPATIBLE"}
    assert not {"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", *keys} & set(active)
    assert "FRUGALFLOW_EMULATOR_URL" not in active


def test_the_image_sets_the_workers_allocator_settings() -> None:
    from frugalflow.infra.allocator import MALLOC_ENV

    text = (ROOT / "Dockerfile").read_text()
    for name, value in MALLOC_ENV.items():
        assert f"{name}={value}" in text, name
