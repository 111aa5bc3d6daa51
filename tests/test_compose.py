"""docker-compose.yml, checked without a Docker engine (CI has none)."""

import pytest
import yaml

from helpers import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_rabbitmq_is_a_3x_management_image():
    image = SERVICES["rabbitmq"]["image"]
    assert image.startswith("rabbitmq:3.")
    assert image.endswith("-management")


def test_every_port_binds_to_loopback():
    ports = [port for service in SERVICES.values() for port in service.get("ports", [])]
    assert ports
    assert all(port.startswith("127.0.0.1:") for port in ports)


def test_the_post_ports_are_published():
    assert [p.rsplit(":", 1)[1] for p in SERVICES["rabbitmq"]["ports"]] == ["5672", "15672"]
    assert "${RABBITMQ_MANAGEMENT_PORT:-8080}" in SERVICES["rabbitmq"]["ports"][1]


def test_every_service_has_a_healthcheck():
    assert all("test" in service["healthcheck"] for service in SERVICES.values())


@pytest.mark.parametrize("service", ["worker", "flower"])
def test_the_worker_and_flower_wait_for_a_healthy_broker(service):
    assert SERVICES[service]["depends_on"] == {"rabbitmq": {"condition": "service_healthy"}}


def test_flower_is_persistent_on_a_named_volume():
    command = SERVICES["flower"]["command"]
    assert command.startswith("celery -A tasks flower --persistent=True --db=/data/")
    assert "flower-data:/data" in SERVICES["flower"]["volumes"]
    assert "flower-data" in COMPOSE["volumes"]


def test_flower_health_is_checked_on_its_healthcheck_page():
    assert "http://localhost:5555/healthcheck" in " ".join(
        SERVICES["flower"]["healthcheck"]["test"]
    )
    assert SERVICES["flower"]["ports"] == ["127.0.0.1:${FLOWER_PORT:-5555}:5555"]


def test_the_worker_runs_the_post_command():
    assert SERVICES["worker"]["command"] == "celery -A tasks worker --loglevel=info --concurrency=1"
    assert SERVICES["worker"]["environment"]["CELERY_BROKER_URL"].endswith("@rabbitmq//")


def test_the_worker_image_installs_the_pinned_requirements():
    assert (
        "pip install --no-cache-dir -r /tmp/requirements.txt"
        in (SERVICES["worker"]["build"]["dockerfile_inline"])
    )
    assert SERVICES["flower"]["image"] == SERVICES["worker"]["image"]


def test_compose_never_uses_the_guest_account():
    assert "guest" not in (ROOT / "docker-compose.yml").read_text()
    environment = SERVICES["rabbitmq"]["environment"]
    assert environment["RABBITMQ_DEFAULT_USER"].startswith("${RABBITMQ_USER:?")
    assert environment["RABBITMQ_DEFAULT_PASS"].startswith("${RABBITMQ_PASSWORD:?")


@pytest.mark.parametrize("service", ["worker", "flower"])
def test_the_worker_and_flower_log_in_with_the_env_file_user(service):
    url = SERVICES[service]["environment"]["CELERY_BROKER_URL"]
    assert url == "pyamqp://${RABBITMQ_USER}:${RABBITMQ_PASSWORD}@rabbitmq//"


def test_the_env_file_has_local_defaults_for_the_broker_user():
    settings = dict(
        line.split("=", 1)
        for line in (ROOT / ".env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(settings) == {"RABBITMQ_USER", "RABBITMQ_PASSWORD"}
    assert "guest" not in settings.values()


def test_revoked_ids_are_kept_on_a_volume():
    assert SERVICES["worker"]["environment"]["CELERY_WORKER_STATE_DB"].startswith("/data/")
    assert "worker-data:/data" in SERVICES["worker"]["volumes"]
