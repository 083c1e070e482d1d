"""The Helm chart, rendered by Helm's own engine and validated against the Kubernetes schemas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import helm_python as helm
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from tests.deploy.checks import DEPLOY, is_settings_env, otel_env_names, parse_command

CHART = DEPLOY / "helm" / "marri-gateway"
KUBERNETES_VERSION = "1.30.0"
CONTAINERFILE_UID = 10001

BASE_VALUES: dict[str, Any] = {
    "database": {"url": "postgresql://marri:secret@db.internal:5432/marri"},
    "keys": {"keysJson": '{"active": "k1", "keys": {}}'},
    "channels": {"endpoints": {"europol": {"url": "https://siena.invalid/ws"}}},
    "telemetry": {"otlpEndpoint": "http://otel-collector:4318"},
}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values, name="marri", namespace="cooperation")
    docs: list[dict[str, Any]] = []
    for path, text in manifests.items():
        if path.endswith(".yaml"):
            docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def containers(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                yield doc["metadata"]["name"], container


@pytest.fixture(scope="module")
def full() -> list[dict[str, Any]]:
    values = {
        **BASE_VALUES,
        "ingress": {"enabled": True},
        "channels": {**BASE_VALUES["channels"], "credentialsSecret": "c", "tlsSecret": "t"},
        "worker": {"args": ["--concurrency", "8"]},
        "extraEnv": {"MARRI_RATE_LIMIT_PER_MINUTE": "1200"},
    }
    return render(values)


def test_lint_finds_no_errors() -> None:
    report = helm.lint(str(CHART))
    assert report["errors"] == []
    assert not [m for m in report["messages"] if m["severity"] >= 3]


def test_every_rendered_object_validates_against_the_kubernetes_schema(
    full: list[dict[str, Any]],
) -> None:
    kinds = sorted(d["kind"] for d in full)
    assert kinds == sorted(
        [
            "ConfigMap",
            "Deployment",
            "Deployment",
            "Ingress",
            "Job",
            "PodDisruptionBudget",
            "Secret",
            "Secret",
            "Service",
            "ServiceAccount",
        ]
    )
    for doc in full:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_broken_object_is_refused_by_the_validator(full: list[dict[str, Any]]) -> None:
    """The validator really checks: a misspelt field in a container fails it."""
    (api,) = [d for d in by_kind(full, "Deployment") if d["metadata"]["name"].endswith("-api")]
    broken = yaml.safe_load(yaml.safe_dump(api))
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_api_probes_health_endpoints_and_runs_without_the_worker(
    full: list[dict[str, Any]],
) -> None:
    (api,) = [d for d in by_kind(full, "Deployment") if d["metadata"]["name"].endswith("-api")]
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MARRI_WORKER_ENABLED"] == "false"
    (service,) = by_kind(full, "Service")
    assert service["spec"]["selector"] == api["spec"]["selector"]["matchLabels"]


def test_every_container_runs_a_real_command_with_real_settings(
    full: list[dict[str, Any]],
) -> None:
    otel = otel_env_names()
    seen = set()
    for name, container in containers(full):
        parse_command(container["args"])
        seen.add(container["args"][0])
        for env in container.get("env", []):
            assert is_settings_env(env["name"]) or env["name"] in otel, (name, env["name"])
        assert container["resources"]["requests"], name
        assert container["resources"]["limits"], name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert seen == {"serve", "worker", "db"}


def test_pods_run_as_the_image_user(full: list[dict[str, Any]]) -> None:
    for doc in full:
        if doc["kind"] in ("Deployment", "Job"):
            pod = doc["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert pod["securityContext"]["runAsUser"] == CONTAINERFILE_UID
            assert pod["automountServiceAccountToken"] is False


def test_secrets_feed_keys_and_database_and_credentials(full: list[dict[str, Any]]) -> None:
    secrets = {s["metadata"]["name"]: s for s in by_kind(full, "Secret")}
    for name, container in containers(full):
        refs = {
            e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e
        }
        assert refs["MARRI_DATABASE_URL"]["name"] in secrets, name
        assert (
            refs["MARRI_DATABASE_URL"]["key"]
            in secrets[refs["MARRI_DATABASE_URL"]["name"]]["stringData"]
        )
        if not name.endswith("-migrate"):
            keys = refs["MARRI_KEYS_JSON"]
            assert keys["key"] in secrets[keys["name"]]["stringData"]
            assert container["envFrom"] == [{"secretRef": {"name": "c"}}]


def test_migration_runs_first_as_a_hook_after_its_database_secret(
    full: list[dict[str, Any]],
) -> None:
    (job,) = by_kind(full, "Job")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]
    (db_secret,) = [
        s for s in by_kind(full, "Secret") if s["metadata"]["name"].endswith("-database")
    ]
    secret_hook = db_secret["metadata"]["annotations"]
    assert "pre-install" in secret_hook["helm.sh/hook"]
    assert int(secret_hook["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])
    # A hook cannot rely on ordinary resources: nothing but the hook secret is referenced.
    pod = job["spec"]["template"]["spec"]
    assert "serviceAccountName" not in pod
    assert all("configMap" not in v for v in pod.get("volumes", []))


def test_ingress_asks_for_client_certificates(full: list[dict[str, Any]]) -> None:
    (ingress,) = by_kind(full, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-tls-verify-client"] == "on"
    assert annotations["nginx.ingress.kubernetes.io/auth-tls-secret"].startswith("cooperation/")


def test_existing_secrets_replace_the_charts_own() -> None:
    docs = render(
        {
            "database": {"existingSecret": "db-from-vault"},
            "keys": {"existingSecret": "keys-from-vault"},
        }
    )
    assert by_kind(docs, "Secret") == []
    assert by_kind(docs, "Ingress") == []
    names = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for _, c in containers(docs)
        for e in c["env"]
        if "valueFrom" in e
    }
    assert names == {"db-from-vault", "keys-from-vault"}
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_missing_database_or_keys_stops_the_render() -> None:
    with pytest.raises(helm.HelmError, match=r"database\.url"):
        render({"keys": {"keysJson": "{}"}})
    with pytest.raises(helm.HelmError, match=r"keys\.keysJson"):
        render({"database": {"url": "postgresql://x@y/z"}})


def test_worker_grace_fits_inside_the_pods_termination_grace(
    full: list[dict[str, Any]],
) -> None:
    (worker,) = [
        d for d in by_kind(full, "Deployment") if d["metadata"]["name"].endswith("-worker")
    ]
    pod = worker["spec"]["template"]["spec"]
    params = parse_command(pod["containers"][0]["args"]).params
    assert params["grace_s"] < pod["terminationGracePeriodSeconds"]
    assert params["concurrency"] == 8
