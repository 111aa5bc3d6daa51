"""The images docker-compose.yml names, for the Docker tests: there, pulled, or stand-ins
built from Debian's packages where no registry answers (tests/docker/stand-ins.sh)."""

import json
import re
import shutil
import subprocess

import pytest

from helpers import ROOT, RUNS


def docker_ready():
    """Why the Docker path cannot be tested here, or "" if it can."""
    if not shutil.which("docker"):
        return "no docker command"
    if subprocess.run(["docker", "info"], capture_output=True).returncode:
        return "no Docker engine answers"
    version = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True)
    if version.returncode or not re.match(rb"v?[2-9]\.", version.stdout):
        return "no Compose v2 (docker compose)"
    return ""


# The Compose file the Docker tests add to docker-compose.yml when they run stand-ins.
STAND_INS = RUNS / "stand-ins.compose.yml"


def make_images(terminal):
    """Make sure the images docker-compose.yml names are on the engine, and where
    stand-ins take their place, write STAND_INS to run them instead."""
    compose = (ROOT / "docker-compose.yml").read_text()
    rabbitmq, python = (
        re.search(r"image: (rabbitmq:\S+)", compose)[1],
        re.search(r"FROM (\S+)", compose)[1],
    )
    made = subprocess.run(
        [ROOT / "tests" / "docker" / "stand-ins.sh", rabbitmq, python],
        capture_output=True,
        text=True,
    )
    for line in made.stderr.splitlines():
        terminal.write_line(line, bold=True)
    if made.returncode:
        pytest.exit("the Docker images could not be made", returncode=1)
    stand_ins = dict(line.split() for line in made.stdout.splitlines())
    if not stand_ins:
        return
    services = {"rabbitmq": {"image": stand_ins.get(rabbitmq, rabbitmq)}}
    if python in stand_ins:
        # The worker's image, built FROM the stand-in, under a name no user's stack runs.
        build = {"additional_contexts": {python: f"docker-image://{stand_ins[python]}"}}
        for service in ("worker", "flower"):
            services[service] = {"image": "celery-memo-stand-in/celery-memo-python"}
        services["worker"]["build"] = build
    STAND_INS.write_text(json.dumps({"services": services}, indent=2))  # JSON is YAML too
