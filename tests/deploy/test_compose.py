"""docker-compose.yml: valid against the Compose Specification JSON schema, and wired as
the deployment needs (healthchecks, start order, two workers, emulator profile, no secret
values, Prometheus and Grafana provisioning).

``compose_spec.json`` beside this file is vendored unchanged from the PyPI wheel
``docker-compose==1.29.2`` (path ``compose/config/compose_spec.json``, sha256
0dc04bd346dcfee1b1419628fff79937bbf076925f298f272a2b490e2b112bac): the Compose
Specification schema (draft 2019-09). It predates the top-level ``name`` key, so the
project name comes from ``COMPOSE_PROJECT_NAME`` in .env.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = Path(__file__).with_name("compose_spec.json")
SCHEMA_SHA256 = "0dc04bd346dcfee1b1419628fff79937bbf076925f298f272a2b490e2b112bac"
WORKERS = ("worker-1", "worker-2")
FRUGALFLOW_SERVICES = ("topics", *WORKERS, "api", "emulator")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def validator() -> jsonschema.protocols.Validator:
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "use the mapping form of environment:"
    return {str(k): str(v) for k, v in env.items()}


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", duration)
    assert match, duration
    return int(match[1]) * (60 if match[2] == "m" else 1)


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    errors = sorted(validator().iter_errors(compose), key=lambda e: list(e.path))
    assert [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors] == []


def test_the_schema_catches_mistakes(compose: dict[str, Any]) -> None:
    broken = {**compose, "services": {**compose["services"], "x": {"image": "a", "bogus": 1}}}
    assert not validator().is_valid(broken)
    bad_depends = {
        **compose,
        "services": {
            **compose["services"],
            "topics": {
                **compose["services"]["topics"],
                "depends_on": {"kafka": {"condition": "up"}},
            },
        },
    }
    assert not validator().is_valid(bad_depends)


def test_infrastructure_services_have_healthchecks(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    kafka_env = env_of(kafka)
    assert "controller" in kafka_env["KAFKA_PROCESS_ROLES"]  # KRaft
    assert not any("ZOOKEEPER" in key for key in kafka_env)
    assert "zookeeper" not in services
    assert "/opt/kafka/bin/" in " ".join(kafka["healthcheck"]["test"])

    assert services["postgres"]["image"] == "postgres:16"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["image"].startswith("redis:7")
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    for name in ("prometheus", "grafana"):
        assert services[name]["healthcheck"]["test"]


def test_topic_job_runs_once_after_kafka(services: dict[str, Any]) -> None:
    topics = services["topics"]
    assert topics["command"] == ["topics", "apply"]
    assert topics["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert topics["restart"] == "no"
    assert topics["healthcheck"] == {"disable": True}


def test_frugalflow_services_use_the_built_image(services: dict[str, Any]) -> None:
    images = {services[name]["image"] for name in FRUGALFLOW_SERVICES}
    assert len(images) == 1
    for name in FRUGALFLOW_SERVICES:
        assert services[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}
        assert services[name]["env_file"] == ".env"


def test_two_workers_start_after_topics_and_postgres(services: dict[str, Any]) -> None:
    ids = set()
    for name in WORKERS:
        worker = services[name]
        env = env_of(worker)
        assert worker["command"] == ["worker"]
        ids.add(env["FRUGALFLOW_WORKER_ID"])
        assert worker["depends_on"]["topics"] == {"condition": "service_completed_successfully"}
        assert worker["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert "emulator" not in worker["depends_on"]  # a profile service: optional
        assert env["FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
        assert "kafka:19092" in env_of(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
        assert env["FRUGALFLOW_WEB_HOST"] == "0.0.0.0"
        port = env["FRUGALFLOW_WEB_PORT"]
        check = " ".join(worker["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/metrics" in check and "urllib" in check
        assert env["FRUGALFLOW_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["FRUGALFLOW_DATABASE_URL"]
        mounts = {v.split(":")[1] for v in worker["volumes"]}
        assert env["FRUGALFLOW_DATA_DIR"] in mounts
        # Above 2.5 x the default provider timeout (30 s, .env.example).
        assert seconds(worker["stop_grace_period"]) > 2.5 * 30
    assert ids == set(WORKERS)


def test_the_api_serves_the_console_on_a_loopback_port(services: dict[str, Any]) -> None:
    api = services["api"]
    env = env_of(api)
    assert api["command"] == ["api"]
    assert env["FRUGALFLOW_API_HOST"] == "0.0.0.0"
    port = env["FRUGALFLOW_API_PORT"]
    assert api["ports"] == [f"127.0.0.1:${{API_HOST_PORT:-{port}}}:{port}"]
    assert f"127.0.0.1:{port}/ready" in " ".join(api["healthcheck"]["test"])
    assert api["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "@postgres:5432/" in env["FRUGALFLOW_DATABASE_URL"]
    # The token reaches the container through .env only.
    assert "FRUGALFLOW_ADMIN_TOKEN" not in env
    assert "\nFRUGALFLOW_ADMIN_TOKEN=" in (ROOT / ".env.example").read_text()


def test_emulator_is_an_opt_in_profile(services: dict[str, Any]) -> None:
    emulator = services["emulator"]
    assert emulator["profiles"] == ["emulator"]
    assert emulator["command"][:3] == ["emulator", "--host", "0.0.0.0"]
    port = emulator["command"][emulator["command"].index("--port") + 1]
    example = (ROOT / ".env.example").read_text()
    assert f"# FRUGALFLOW_EMULATOR_URL=http://emulator:{port}\n" in example
    assert "--profile emulator" in example
    for name, service in services.items():
        if name != "emulator":
            assert "profiles" not in service


def test_no_secret_values_are_written_in_compose(services: dict[str, Any]) -> None:
    text = COMPOSE_FILE.read_text()
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"):
        assert key not in text  # provider keys reach the containers only through .env
    for name, service in services.items():
        for key, value in env_of(service).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY", key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+(:\?[^}]*)?\}", value), f"{name}: {key}"
            if key.endswith("DATABASE_URL"):
                assert "${POSTGRES_PASSWORD:?" in value


def test_prometheus_scrapes_both_workers(services: dict[str, Any]) -> None:
    mount = next(v for v in services["prometheus"]["volumes"] if "prometheus.yml" in v)
    source, target = mount.split(":")[:2]
    assert target == "/etc/prometheus/prometheus.yml"
    assert f"--config.file={target}" in services["prometheus"]["command"]
    config = yaml.safe_load((ROOT / source).read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "frugalflow"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    expected = {f"{w}:{env_of(services[w])['FRUGALFLOW_WEB_PORT']}" for w in WORKERS}
    assert targets == expected


def test_grafana_is_provisioned(services: dict[str, Any]) -> None:
    grafana = services["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    dashboards_target = mounts["./deploy/grafana/dashboards"]
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"

    [datasource] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert datasource["type"] == "prometheus"
    assert datasource["uid"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert "prometheus" in services

    [provider] = yaml.safe_load((provisioning / "dashboards" / "frugalflow.yml").read_text())[
        "providers"
    ]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == dashboards_target
    home = env_of(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    # The dashboard itself is deploy/grafana/dashboards/frugalflow.json.
    assert home == f"{dashboards_target}/frugalflow.json"
    assert "GF_SECURITY_ADMIN_PASSWORD" in env_of(grafana)
