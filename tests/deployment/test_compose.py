"""docker-compose.yml (a lab server): the app on the shared Redis run store and PostgreSQL,
each service with a health check and its data on a named volume. No Docker daemon is needed:
this reads the file as Compose would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_every_service_has_a_health_check_and_the_stateful_ones_a_volume() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"app", "redis", "postgres"}
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
    named = set(compose["volumes"])
    for name in ("redis", "postgres", "app"):
        mounted = {v.split(":")[0] for v in services[name]["volumes"]}
        assert mounted and mounted <= named, name


def test_the_app_shares_runs_through_redis_and_waits_for_its_services() -> None:
    app = _compose()["services"]["app"]
    env = app["environment"]
    # The values the server reads (PLAYGROUND_ prefix) must be ones its settings accept.
    settings = Settings(run_store=env["PLAYGROUND_RUN_STORE"],
                        run_store_url=env["PLAYGROUND_RUN_STORE_URL"])
    assert settings.run_store == "redis" and "//redis:" in settings.run_store_url
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    assert {name: c["condition"] for name, c in app["depends_on"].items()} == {
        "redis": "service_healthy", "postgres": "service_healthy"}
    assert "--appendonly" in _compose()["services"]["redis"]["command"]


def test_the_image_installs_the_drivers_the_compose_file_uses() -> None:
    """A postgresql+psycopg:// URL needs the postgres extra in the image, Redis the redis
    extra: without them the app fails at start inside compose."""
    env = _compose()["services"]["app"]["environment"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    installed = dockerfile.split('pip install ".[', 1)[1].split("]", 1)[0].split(",")
    if env.get("PLAYGROUND_DATABASE_URL", "").startswith("postgresql+psycopg://"):
        assert "postgres" in installed
    if env.get("PLAYGROUND_RUN_STORE") == "redis":
        assert "redis" in installed
