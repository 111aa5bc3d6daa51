"""`make up`, `down` and `clean` on the Docker path, from a fresh copy of the repo, on a
stack of their own (project, ports and image), so that they run beside test_docker.py's."""

import json

import pytest

from conftest import port
from helpers import ROOT, fresh_copy, start_client
from images import STAND_INS
from test_docker import WHY_NOT, run, services, start_interval

PORT = port(5683)
PROJECT = "celery-memo-tests-make"
STACK_ENV = {
    "COMPOSE_PROJECT_NAME": PROJECT,
    "RABBITMQ_PORT": str(PORT),
    "RABBITMQ_MANAGEMENT_PORT": str(port(18083)),
    "FLOWER_PORT": str(port(5563)),
    "ADD_SLEEP": "3",
}
pytestmark = [
    pytest.mark.skipif(bool(WHY_NOT), reason=f"{WHY_NOT}: see test_docker.py"),
    # Each test brings a Compose stack up (and the first one builds its image): about
    # 35 s on a loaded run, and a test's timeout counts its fixtures.
    pytest.mark.timeout(150),
]


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A fresh copy of the repo, with its stack's settings in STACK_ENV."""
    clone = fresh_copy(tmp_path_factory.mktemp("docker-make") / "celery-memo")
    (clone / ".venv").symlink_to(ROOT / ".venv")  # as after `make install`
    # The worker's image under a name of its own: a build of test_docker.py's project
    # carries that project's label, and `make up --build` there would rebuild it.
    # (Built from a stand-in, under the stand-ins' prefix, as images.make_images names it.)
    override = json.loads(STAND_INS.read_text()) if STAND_INS.exists() else {"services": {}}
    prefix = "celery-memo-stand-in/" if STAND_INS.exists() else ""
    for service in ("worker", "flower"):
        override["services"].setdefault(service, {})["image"] = f"{prefix}{PROJECT}-python"
    (clone.parent / "tests.compose.yml").write_text(json.dumps(override))
    STACK_ENV["COMPOSE_FILE"] = f"docker-compose.yml:{clone.parent / 'tests.compose.yml'}"
    run("docker", "compose", "down", "--volumes", cwd=clone, env=STACK_ENV)  # an interrupted run's
    try:
        yield clone
    finally:
        run("docker", "compose", "down", "--volumes", cwd=clone, env=STACK_ENV, check=False)


def make(target, clone):
    """Run a make target in the copy, with the stack's settings."""
    return run("make", "-s", target, cwd=clone, env=STACK_ENV)


def test_make_up_brings_the_stack_up_and_a_second_make_up_keeps_it(clone):
    up = make("up", clone)
    assert "The stack is up (docker)" in up.stdout
    containers = {name: s["ID"] for name, s in services(clone, STACK_ENV).items()}
    assert make("up", clone).returncode == 0
    assert {name: s["ID"] for name, s in services(clone, STACK_ENV).items()} == containers
    # On Engine 25+ (API 1.44), make up checks each service every second while it starts.
    api = run("docker", "version", "-f", "{{.Client.APIVersion}}", cwd=clone).stdout
    every = 10**9 if tuple(map(int, api.split("."))) >= (1, 44) else 0
    assert {name: start_interval(ID) for name, ID in containers.items()} == {
        "rabbitmq": every,
        "worker": every,
        "flower": every,
    }


def test_a_task_queued_before_make_down_runs_after_make_up(clone):
    client, ids = start_client(f"pyamqp://guest@localhost:{PORT}//", ["celery", "celery"], 60)

    make("down", clone)
    assert services(clone, STACK_ENV) == {}
    up = make("up", clone)
    assert "The stack is up (docker)" in up.stdout
    answers, _ = client.communicate("\n", timeout=90)

    assert json.loads(answers) == [1, 2]
    logs = run("docker", "compose", "logs", "worker", cwd=clone, env=STACK_ENV).stdout
    assert f"Task tasks.add[{ids[1]}] succeeded" in logs


def test_make_clean_deletes_the_volumes(clone):
    def volumes():
        out = run("docker", "volume", "ls", "-q", "--filter", f"name={PROJECT}_", cwd=clone)
        return set(out.stdout.split())

    assert {f"{PROJECT}_{v}-data" for v in ("rabbitmq", "worker", "flower")} <= volumes()
    make("clean", clone)

    assert volumes() == set()
    assert services(clone, STACK_ENV) == {}
    assert not (clone / ".run").exists()
