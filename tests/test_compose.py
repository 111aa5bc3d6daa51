"""docker-compose.yml as Compose reads it: what the running stack (test_docker.py)
cannot show, because the tests run it on ports of their own."""

import json
import os
import shutil
import subprocess

import pytest

from helpers import ROOT

pytestmark = pytest.mark.skipif(
    subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0
    if shutil.which("docker")
    else True,
    reason="no docker compose (Compose v2) to read docker-compose.yml",
)
SETTINGS = ("RABBITMQ_", "FLOWER_", "COMPOSE_", "ADD_SLEEP")


def config(cwd=ROOT):
    """`docker compose config` as a user runs it: no settings but .env's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS)}
    return subprocess.run(
        ["docker", "compose", "config", "--format", "json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_default_ports_are_the_posts_and_on_loopback_only():
    services = json.loads(config().stdout)["services"]

    published = {
        (name, p["host_ip"], p["published"], p["target"])
        for name, service in services.items()
        for p in service.get("ports", [])
    }
    assert published == {
        ("rabbitmq", "127.0.0.1", "5672", 5672),
        ("rabbitmq", "127.0.0.1", "8080", 15672),  # the management UI, on 8080 as in the post
        ("flower", "127.0.0.1", "5555", 5555),
    }


@pytest.mark.parametrize(
    "present, missing",
    [("RABBITMQ_PASSWORD", "RABBITMQ_USER"), ("RABBITMQ_USER", "RABBITMQ_PASSWORD")],
)
def test_compose_names_the_missing_setting(tmp_path, present, missing):
    # One missing at a time: with both gone, Compose names either one first.
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    (tmp_path / ".env").write_text(f"{present}=guest\n")

    result = config(tmp_path)

    assert result.returncode != 0
    assert f"set {missing} (see .env)" in result.stderr
