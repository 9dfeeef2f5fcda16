"""deploy/k8s (the cluster recipe of docs/SCALING.md): what can be checked without a cluster.
Every manifest parses; the images are the ones the Dockerfiles build; every environment
variable is a setting the server has, with a value it accepts; the probes ask routes the app
serves; the Ray cluster holds the actors the web replicas ask for; the names that tie the
pieces together (Services, Secret keys, labels) agree."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
PREFIX = Settings.model_config["env_prefix"]


def _documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            assert isinstance(doc, dict), path.name
            docs.append(doc)
    return docs


def _one(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


def _pod_specs() -> list[dict[str, Any]]:
    """Every pod template: Deployments, StatefulSets and the RayCluster's groups."""
    specs: list[dict[str, Any]] = []
    for doc in _documents():
        if doc["kind"] in {"Deployment", "StatefulSet"}:
            specs.append(doc["spec"]["template"])
        elif doc["kind"] == "RayCluster":
            specs.append(doc["spec"]["headGroupSpec"]["template"])
            specs += [group["template"] for group in doc["spec"]["workerGroupSpecs"]]
    return specs


def _containers() -> list[dict[str, Any]]:
    return [c for pod in _pod_specs() for c in pod["spec"]["containers"]]


def _app_tag() -> str:
    """The tag the repository's Dockerfile is built with (its `docker build -t` line)."""
    match = re.search(r"docker build -t (\S+) \.", (ROOT / "Dockerfile").read_text())
    assert match, "the Dockerfile's header names its build tag"
    return match[1]


def _cluster_image() -> str:
    text = (K8S / "Dockerfile").read_text()
    match = re.search(r"docker build -t (\S+) deploy/k8s", text)
    assert match, "deploy/k8s/Dockerfile's header names its build tag"
    return match[1]


def _web() -> dict[str, Any]:
    container = _one("Deployment", "playground-web")["spec"]["template"]["spec"]["containers"]
    assert len(container) == 1
    return dict(container[0])


def _literal_env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def test_every_manifest_parses_and_kustomize_lists_each_file() -> None:
    docs = _documents()
    assert docs
    for doc in docs:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], doc
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests


def test_the_app_pods_run_the_cluster_image_built_from_the_app_image() -> None:
    app_tag = _app_tag()
    image = _cluster_image()
    assert image.split(":")[0] == app_tag, (image, app_tag)
    dockerfile = (K8S / "Dockerfile").read_text()
    assert re.search(rf"^ARG BASE={re.escape(app_tag)}$", dockerfile, re.M)
    assert re.search(r"^USER \d+(:\d+)?$", dockerfile, re.M), "numeric, for runAsNonRoot"
    ours = [c for c in _containers() if c["name"] in {"web", "ray-head", "ray-worker"}]
    assert {c["name"] for c in ours} == {"web", "ray-head", "ray-worker"}
    for container in ours:
        assert container["image"] == image, container["name"]
    # The stores are the images docker-compose.yml runs and tests against.
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    images = {c["name"]: c["image"] for c in _containers()}
    assert images["redis"] == compose["redis"]["image"]
    assert images["postgres"] == compose["postgres"]["image"]


def test_every_app_env_var_is_a_setting_and_its_value_is_accepted() -> None:
    for container in _containers():
        if container["image"] != _cluster_image():
            continue
        for entry in container.get("env", []):
            name = entry["name"]
            assert name.startswith(PREFIX), name
            assert name[len(PREFIX):].lower() in Settings.model_fields, name
    env = _literal_env(_web())
    settings = Settings(**{k[len(PREFIX):].lower(): v for k, v in env.items()})
    assert settings.executor_backend == "ray" and settings.run_store == "redis"


def test_the_probes_ask_routes_the_app_serves() -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app

    # Without its lifespan the app has no executor: alive, not ready; both routes answer.
    client = TestClient(create_app())
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    assert client.get("/no-such-probe").status_code == 404
    web = _web()
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    ports = {p["name"]: p["containerPort"] for p in web["ports"]}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert web[probe]["httpGet"]["port"] in ports
    assert ports["http"] == int(web["command"][web["command"].index("--port") + 1])


def test_the_ray_cluster_holds_every_actor_the_web_replicas_ask_for() -> None:
    cluster = _one("RayCluster", "playground-ray")
    deployment = _one("Deployment", "playground-web")
    settings = Settings(**{k[len(PREFIX):].lower(): v for k, v in _literal_env(_web()).items()})
    actors = deployment["spec"]["replicas"] * settings.workers
    head = cluster["spec"]["headGroupSpec"]
    groups = [head, *cluster["spec"]["workerGroupSpecs"]]
    for group in groups:  # KubeRay takes strings only
        assert all(isinstance(v, str) for v in group["rayStartParams"].values()), group
    assert head["rayStartParams"]["num-cpus"] == "0", "no sandbox actor on the head"
    cpus = gpus = 0.0
    for group in cluster["spec"]["workerGroupSpecs"]:
        container = group["template"]["spec"]["containers"][0]
        limit = int(container["resources"]["limits"]["nvidia.com/gpu"])
        assert limit >= 1 and int(group["rayStartParams"]["num-gpus"]) == limit
        assert group["minReplicas"] == group["replicas"]
        cpus += group["replicas"] * float(group["rayStartParams"]["num-cpus"])
        gpus += group["replicas"] * limit
    assert actors * settings.ray_cpus_per_actor <= cpus
    assert actors * settings.ray_gpus_per_actor <= gpus
    # Each actor's CUDA memory cap (0.9 of its share) keeps a device's actors under one.
    per_device = math.floor(1 / settings.ray_gpus_per_actor)
    assert per_device * 0.9 * settings.ray_gpus_per_actor < 1


def test_ray_version_matches_the_image() -> None:
    cluster = _one("RayCluster", "playground-ray")
    match = re.search(r"^ARG RAY_VERSION=(\S+)$", (K8S / "Dockerfile").read_text(), re.M)
    assert match and cluster["spec"]["rayVersion"] == match[1]


def test_the_names_that_tie_the_pieces_together_agree() -> None:
    env = _literal_env(_web())
    cluster = _one("RayCluster", "playground-ray")
    ray = urlsplit(env["PLAYGROUND_RAY_ADDRESS"])
    head_ports = {p["name"]: p["containerPort"]
                  for p in cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
                  ["ports"]}
    # KubeRay names the head's Service <cluster>-head-svc.
    assert (ray.scheme, ray.hostname, ray.port) == (
        "ray", f"{cluster['metadata']['name']}-head-svc", head_ports["client"])
    redis = urlsplit(env["PLAYGROUND_RUN_STORE_URL"])
    assert _one("Service", str(redis.hostname))["spec"]["ports"][0]["port"] == redis.port
    # Secrets come from one Secret; the database URL and cookie key never sit in a manifest.
    secret_refs = {(e["name"], e["valueFrom"]["secretKeyRef"]["name"])
                   for c in _containers() for e in c.get("env", []) if "valueFrom" in e}
    assert {name for _, name in secret_refs} == {"playground-secrets"}
    assert {"PLAYGROUND_DATABASE_URL", "PLAYGROUND_SECRET_KEY"} <= {n for n, _ in secret_refs}
    ingress = _one("Ingress", "playground")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = _one("Service", backend["name"])
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert ingress["spec"]["tls"]


def test_uvicorn_believes_forwarded_addresses_from_a_bounded_network_only() -> None:
    command = _web()["command"]
    assert "--proxy-headers" in command
    allowed = command[command.index("--forwarded-allow-ips") + 1]
    assert "*" not in allowed and allowed not in {"0.0.0.0/0", "::/0"}


@pytest.mark.parametrize("component", ["ray", "web"])
def test_network_policies_select_the_pods_they_guard(component: str) -> None:
    policy = _one("NetworkPolicy", f"playground-{component}")
    selector = policy["spec"]["podSelector"]["matchLabels"]
    labelled = [pod["metadata"]["labels"] for pod in _pod_specs()
                if pod["metadata"]["labels"].get("app.kubernetes.io/component") == component]
    assert labelled and all(selector.items() <= labels.items() for labels in labelled)
