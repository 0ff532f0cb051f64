"""The Helm chart (helm/frugalflow), rendered and linted in-process with Helm's own Go code
(the ``helm-python-sdk`` wheel), and its manifests validated against the Kubernetes
OpenAPI schemas of a pinned version (``kubernetes-validate``).

Custom resources (ServiceMonitor, ScaledObject, KafkaTopic) have no schema there: their
key fields are asserted instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "frugalflow"
KUBE_VERSION = "1.33.0"  # the Kubernetes version manifests are validated against
CRD_KINDS = {"ServiceMonitor", "ScaledObject", "KafkaTopic"}
RELEASE, NAMESPACE = "ff", "llm"
FULLNAME = f"{RELEASE}-frugalflow"

ALL_ON: dict[str, Any] = {
    "partitions": 8,
    "replicas": 3,
    "topicPrefix": "prod.",
    "appId": "frugalflow-prod",
    "kafka": {"bootstrapServers": "kafka-0.kafka:9092,kafka-1.kafka:9092", "replicationFactor": 3},
    "config": {"emulator_url": "http://emulator:8099", "window_max_requests": 1000},
    "secrets": {
        "database": {"existingSecret": "ff-db", "key": "url"},
        "redis": {"existingSecret": "ff-redis", "key": "REDIS_URL"},
        "providers": {"existingSecret": "ff-llm-keys"},
        "alerts": {"existingSecret": "ff-alerts", "key": "channels.json"},
        "admin": {
            "existingSecret": "ff-admin",
            "tokenKey": "token",
            "readonlyTokenKey": "readonly",
        },
    },
    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "keda": {"enabled": True, "minReplicas": 1, "maxReplicas": 8, "authenticationRef": "kafka"},
    "strimzi": {"enabled": True, "clusterName": "main"},
    "imagePullSecrets": [{"name": "registry"}],
    "podAnnotations": {"team": "llm"},
}

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "all-on": ALL_ON,
    "no-persistence": {
        "persistence": {"enabled": False},
        "podDisruptionBudget": {"enabled": False},
    },
}


@pytest.fixture(scope="module")
def chart() -> Any:
    loaded = helm.Chart.load(CHART)
    yield loaded
    loaded.close()


def render(chart: Any, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    rendered = chart.render(values or {}, name=RELEASE, namespace=NAMESPACE)
    docs: list[dict[str, Any]] = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
    return found[0]


def worker_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    containers = one(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["worker"]
    container: dict[str, Any] = containers[0]
    return container


# --- lint and Kubernetes schemas -----------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_helm_lint_is_clean(variant: str) -> None:
    report = helm.lint(CHART, VARIANTS[variant], strict=True, kube_version=f"v{KUBE_VERSION}")
    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # warnings and errors
    assert problems == []


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_manifests_validate_against_kubernetes(chart: Any, variant: str) -> None:
    docs = render(chart, VARIANTS[variant])
    kinds = {d["kind"] for d in docs}
    assert {"ConfigMap", "StatefulSet", "Service"} <= kinds
    assert "Secret" not in kinds  # the chart references existing Secrets, never holds one
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            continue  # no schema in kubernetes-validate: key fields asserted below
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {where}: {exc.message}")


def test_all_on_renders_every_optional_resource(chart: Any) -> None:
    kinds = [d["kind"] for d in render(chart, ALL_ON)]
    for kind in ("ServiceMonitor", "ScaledObject", "KafkaTopic", "PodDisruptionBudget"):
        assert kind in kinds
    default_kinds = {d["kind"] for d in render(chart)}
    assert not default_kinds & CRD_KINDS  # optional CRDs are off by default


# --- the worker StatefulSet ----------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_statefulset_runs_workers_with_stable_ids_and_state(chart: Any, variant: str) -> None:
    docs = render(chart, VARIANTS[variant])
    sts = one(docs, "StatefulSet", FULLNAME)
    pod = sts["spec"]["template"]["spec"]
    container = worker_container(docs)
    config = one(docs, "ConfigMap", FULLNAME)["data"]

    assert sts["spec"]["serviceName"] == f"{FULLNAME}-headless"
    assert one(docs, "Service", f"{FULLNAME}-headless")["spec"]["clusterIP"] == "None"
    assert pod["enableServiceLinks"] is False
    assert container["args"] == ["worker"]
    assert {"configMapRef": {"name": FULLNAME}} in container["envFrom"]

    env = {e["name"]: e for e in container["env"]}
    assert env["FRUGALFLOW_WORKER_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}

    mount = next(m for m in container["volumeMounts"] if m["name"] == "data")
    assert mount["mountPath"] == config["FRUGALFLOW_DATA_DIR"]
    if VARIANTS[variant].get("persistence", {}).get("enabled", True):
        claims = sts["spec"]["volumeClaimTemplates"]
        assert [c["metadata"]["name"] for c in claims] == ["data"]
        assert claims[0]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    else:
        assert "volumeClaimTemplates" not in sts["spec"]
        assert {"name": "data", "emptyDir": {}} in pod["volumes"]


def test_statefulset_probes_security_and_shutdown(chart: Any) -> None:
    docs = render(chart)
    pod = one(docs, "StatefulSet")["spec"]["template"]["spec"]
    container = worker_container(docs)
    config = one(docs, "ConfigMap")["data"]

    [port] = container["ports"]
    assert port == {"name": "web", "containerPort": 6066, "protocol": "TCP"}
    assert config["FRUGALFLOW_WEB_PORT"] == "6066"
    assert config["FRUGALFLOW_WEB_HOST"] == "0.0.0.0"  # probes reach it from the kubelet
    for probe in ("startupProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/metrics", "port": "web"}
    # Ready only once tables are recovered and no rebalance runs (the worker's /ready).
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "web"}

    timeout = float(config["FRUGALFLOW_PROVIDER_TIMEOUT_S"])
    assert pod["terminationGracePeriodSeconds"] == 120
    assert pod["terminationGracePeriodSeconds"] > 2.5 * timeout

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"] and container["resources"]["limits"]


def test_replicas_follow_values_and_keda_owns_them_when_enabled(chart: Any) -> None:
    assert one(render(chart), "StatefulSet")["spec"]["replicas"] == 2
    assert "replicas" not in one(render(chart, ALL_ON), "StatefulSet")["spec"]


def test_configmap_holds_the_settings(chart: Any) -> None:
    data = one(render(chart, ALL_ON), "ConfigMap")["data"]
    assert data["FRUGALFLOW_PARTITIONS"] == "8"
    assert data["FRUGALFLOW_REPLICATION_FACTOR"] == "3"
    assert data["FRUGALFLOW_APP_ID"] == "frugalflow-prod"
    assert data["FRUGALFLOW_TOPIC_PREFIX"] == "prod."
    assert data["FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS"] == ALL_ON["kafka"]["bootstrapServers"]
    assert data["FRUGALFLOW_EMULATOR_URL"] == "http://emulator:8099"
    assert data["FRUGALFLOW_WINDOW_MAX_REQUESTS"] == "1000"
    assert all(isinstance(v, str) for v in data.values())


# --- secrets are references only -----------------------------------------------------------


def test_secrets_are_referenced_never_rendered(chart: Any) -> None:
    default_env = {e["name"] for e in worker_container(render(chart))["env"]}
    assert default_env == {"FRUGALFLOW_WORKER_ID"}

    env = {e["name"]: e for e in worker_container(render(chart, ALL_ON))["env"]}
    refs = {
        name: e["valueFrom"]["secretKeyRef"]
        for name, e in env.items()
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert refs["DATABASE_URL"] == {"name": "ff-db", "key": "url"}
    assert refs["REDIS_URL"] == {"name": "ff-redis", "key": "REDIS_URL"}
    assert refs["FRUGALFLOW_ALERT_CHANNELS"] == {"name": "ff-alerts", "key": "channels.json"}
    for name in (
        "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY",
        "CEREBRAS_API_KEY",
    ):  # fmt: skip
        assert refs[name] == {"name": "ff-llm-keys", "key": name, "optional": True}
    assert all("value" not in e for e in env.values())


def test_schema_refuses_secrets_and_managed_keys_in_config(chart: Any) -> None:
    for key in ("database_url", "anthropic_api_key", "alert_channels", "partitions", "worker_id"):
        with pytest.raises(helm.HelmValuesError):
            chart.validate_schema({"config": {key: "x"}})


# --- services and optional resources -------------------------------------------------------


def test_service_exposes_the_web_port(chart: Any) -> None:
    docs = render(chart)
    service = one(docs, "Service", FULLNAME)
    assert service["spec"]["ports"] == [
        {"name": "web", "port": 6066, "targetPort": "web", "protocol": "TCP"}
    ]
    labels = one(docs, "StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    pdb = one(docs, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_the_api_serves_the_console_apart_from_the_workers(chart: Any) -> None:
    docs = render(chart, ALL_ON)
    deployment = one(docs, "Deployment", f"{FULLNAME}-api")
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["args"] == ["api"]
    env = {e["name"]: e for e in container["env"]}
    assert env["FRUGALFLOW_API_HOST"]["value"] == "0.0.0.0"
    assert env["FRUGALFLOW_API_PORT"]["value"] == "8080"
    refs = {n: e["valueFrom"]["secretKeyRef"] for n, e in env.items() if "valueFrom" in e}
    assert refs["FRUGALFLOW_ADMIN_TOKEN"] == {"name": "ff-admin", "key": "token"}
    assert refs["FRUGALFLOW_ADMIN_READONLY_TOKEN"] == {
        "name": "ff-admin", "key": "readonly", "optional": True}  # fmt: skip
    assert refs["DATABASE_URL"] == {"name": "ff-db", "key": "url"}
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    service = one(docs, "Service", f"{FULLNAME}-api")
    labels = pod["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["port"] == 8080
    # Neither selects the other's pods.
    worker_labels = one(docs, "StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= worker_labels.items()
    for worker_service in (FULLNAME, f"{FULLNAME}-headless"):
        selector = one(docs, "Service", worker_service)["spec"]["selector"]
        assert not selector.items() <= labels.items()
    assert not one(docs, "StatefulSet")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    # Without an admin Secret no token is set (the API then refuses every request).
    default = one(render(chart), "Deployment", f"{FULLNAME}-api")["spec"]["template"]
    names = {e["name"] for e in default["spec"]["containers"][0]["env"]}
    assert names == {"FRUGALFLOW_API_HOST", "FRUGALFLOW_API_PORT"}
    assert not [d for d in render(chart, {"api": {"enabled": False}}) if d["kind"] == "Deployment"]


def test_service_monitor_scrapes_metrics(chart: Any) -> None:
    docs = render(chart, ALL_ON)
    monitor = one(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"][0]["port"] == "web"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    selector = monitor["spec"]["selector"]["matchLabels"].items()
    selected = [
        d["metadata"]["name"]
        for d in docs
        if d["kind"] == "Service" and selector <= d["metadata"]["labels"].items()
    ]
    assert selected == [FULLNAME]  # not the headless Service too: pods scraped once


def test_keda_scales_on_consumer_lag_of_requests(chart: Any) -> None:
    scaled = one(render(chart, ALL_ON), "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": FULLNAME,
    }
    assert scaled["spec"]["minReplicaCount"] == 1
    assert scaled["spec"]["maxReplicaCount"] == 8
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == "frugalflow-prod"  # FRUGALFLOW_APP_ID
    assert trigger["metadata"]["topic"] == "prod.llm.requests"
    assert trigger["metadata"]["bootstrapServers"] == ALL_ON["kafka"]["bootstrapServers"]
    assert trigger["authenticationRef"] == {"name": "kafka"}
    assert all(isinstance(v, str) for v in trigger["metadata"].values())


def test_chart_topics_file_is_the_repository_topics_file() -> None:
    repo = (ROOT / "topics" / "topics.yaml").read_bytes()
    assert (CHART / "files" / "topics.yaml").read_bytes() == repo, (
        "helm/frugalflow/files/topics.yaml must be a copy of topics/topics.yaml: "
        "cp topics/topics.yaml helm/frugalflow/files/topics.yaml"
    )


def test_strimzi_topics_match_topic_definitions(chart: Any) -> None:
    definitions = yaml.safe_load((ROOT / "topics" / "topics.yaml").read_text())["topics"]
    topics = [d for d in render(chart, ALL_ON) if d["kind"] == "KafkaTopic"]
    by_name = {t["spec"]["topicName"]: t for t in topics}
    assert set(by_name) == {f"prod.{d['name']}" for d in definitions}
    for definition in definitions:
        topic = by_name[f"prod.{definition['name']}"]
        assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "main"
        name = topic["metadata"]["name"]
        assert len(name) <= 63 and name == name.lower() and "." not in name
        expected_partitions = (
            8 if definition.get("partitions", "shared") == "shared" else definition["partitions"]
        )
        expected_replicas = (
            3 if definition.get("replication", "shared") == "shared" else definition["replication"]
        )
        assert topic["spec"]["partitions"] == expected_partitions
        assert topic["spec"]["replicas"] == expected_replicas
        config = {str(k): str(v) for k, v in (definition.get("config") or {}).items()}
        assert topic["spec"].get("config", {}) == config
    assert len({t["metadata"]["name"] for t in topics}) == len(topics)


# --- values.schema.json and render-time checks ---------------------------------------------


def test_schema_rejects_more_replicas_than_partitions(chart: Any) -> None:
    chart.validate_schema({"partitions": 4, "replicas": 4})
    chart.validate_schema({"partitions": 64, "replicas": 64})
    for partitions, replicas in ((4, 5), (1, 2), (63, 64), (12, 40)):
        with pytest.raises(helm.HelmValuesError, match="partitions"):
            chart.validate_schema({"partitions": partitions, "replicas": replicas})
    with pytest.raises(helm.HelmValuesError):
        chart.render({"partitions": 2, "replicas": 3}, name=RELEASE)


def test_schema_rejects_bad_types_and_unknown_keys(chart: Any) -> None:
    bad_values: list[dict[str, Any]] = [
        {"partitions": "four"},
        {"replicas": 1.5},
        {"terminationGracePeriodSeconds": "120s"},
        {"kafka": {"bootstrapServers": "no-port"}},
        {"keda": {"enabled": "yes"}},
        {"persistence": {"size": "lots"}},
        {"logLevel": "TRACE"},
        {"replica": 2},  # a typo of `replicas`
    ]
    for values in bad_values:
        with pytest.raises(helm.HelmValuesError):
            chart.validate_schema(values)


def test_replicas_rule_covers_every_allowed_replica_count() -> None:
    """JSON Schema cannot compare two values: the rule is one implication per replica
    count (replicas >= k requires partitions >= k), complete up to replicas' maximum."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    maximum = schema["properties"]["replicas"]["maximum"]
    expected = [
        {
            "if": {"properties": {"replicas": {"minimum": k}}, "required": ["replicas"]},
            "then": {"properties": {"partitions": {"minimum": k}}},
        }
        for k in range(2, maximum + 1)
    ]
    assert schema["allOf"] == expected
    assert schema["properties"]["keda"]["properties"]["maxReplicas"]["maximum"] == maximum


def test_render_refuses_keda_beyond_partitions(chart: Any) -> None:
    values = {**ALL_ON, "keda": {"enabled": True, "maxReplicas": 9}}
    with pytest.raises(helm.HelmError, match=r"keda.maxReplicas \(9\) must be <= partitions"):
        chart.render(values, name=RELEASE)


def test_render_refuses_a_grace_period_shorter_than_the_hand_off(chart: Any) -> None:
    with pytest.raises(helm.HelmError, match="terminationGracePeriodSeconds"):
        chart.render({"terminationGracePeriodSeconds": 75}, name=RELEASE)
    docs = render(chart, {"providerTimeoutSeconds": 60, "terminationGracePeriodSeconds": 151})
    pod = one(docs, "StatefulSet")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 151
