"""`make up`, `status`, `logs`, `down` and `clean` on the Docker path, from a fresh copy.

Beside test_docker.py (a plain `docker compose up`), on a stack and ports of its own.
"""

import json

import pytest

from conftest import port
from helpers import ROOT, Process, fresh_copy, start_client
from test_docker import WHY_NOT, add, compose_client, run, services

PORT, MANAGEMENT_PORT, FLOWER_PORT = port(5686), port(18086), port(5564)
URL = f"pyamqp://guest@localhost:{PORT}//"  # the post's URL, on the tests' port
PROJECT = "celery-memo-tests-make"
STACK_ENV = {
    "COMPOSE_PROJECT_NAME": PROJECT,
    "RABBITMQ_PORT": str(PORT),
    "RABBITMQ_MANAGEMENT_PORT": str(MANAGEMENT_PORT),
    "FLOWER_PORT": str(FLOWER_PORT),
    "ADD_SLEEP": "3",
}
pytestmark = pytest.mark.skipif(bool(WHY_NOT), reason=f"{WHY_NOT}: see test_docker.py")


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A fresh copy of the repo, its stack brought up by `make up`."""
    clone = fresh_copy(tmp_path_factory.mktemp("docker-make") / "celery-memo")
    (clone / ".venv").symlink_to(ROOT / ".venv")  # as after `make install`
    run("docker", "compose", "down", "--volumes", cwd=clone, env=STACK_ENV)  # an earlier run's
    try:
        up = run("make", "-s", "up", cwd=clone, env=STACK_ENV)
        assert "The stack is up (docker)" in up.stdout
        assert "export CELERY_BROKER_URL" not in up.stdout  # the post's URL works as it is
        yield clone
    finally:
        run("docker", "compose", "down", "--volumes", cwd=clone, env=STACK_ENV, check=False)


@pytest.fixture
def client(clone, monkeypatch):
    """A client of this module's stack."""
    yield from compose_client(URL, monkeypatch)


def test_make_status_and_logs_show_the_compose_stack(clone, client, tmp_path):
    status = run("make", "-s", "status", cwd=clone, env=STACK_ENV).stdout
    assert "celery-memo-tests-make-worker-1" in status and "(healthy)" in status
    logs = Process(["make", "-s", "-C", str(clone), "logs"], tmp_path / "logs.log", **STACK_ENV)
    try:
        result = add(client, 2, 3)
        assert result.get(timeout=30) == 5
        logs.logged(f"Task tasks.add[{result.id}] succeeded")
    finally:
        logs.stop()


def test_a_task_queued_before_make_down_runs_after_make_up(clone):
    client, ids = start_client(URL, ["celery", "celery"], timeout=60)

    run("make", "-s", "down", cwd=clone, env=STACK_ENV)
    assert services(clone, STACK_ENV) == {}
    up = run("make", "-s", "up", cwd=clone, env=STACK_ENV)
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
    run("make", "-s", "clean", cwd=clone, env=STACK_ENV)

    assert volumes() == set()
    assert services(clone, STACK_ENV) == {}
    assert not (clone / ".run").exists()
