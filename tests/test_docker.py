"""The Docker path: docker-compose.yml on a real engine, from a fresh copy of the repo.

A plain `docker compose up`, its client pinned to Docker 20.10's API (1.41), brings the
stack up; the tests then read it, and at the end `make up`, `status` and `logs` take it
over, and `make down`, `up` and `clean` stop, start and delete it, in file order. Where
no registry gave the images, it runs the stand-ins (images.STAND_INS). Skipped where no
Docker engine with Compose v2 runs (CI sets one up).
"""

import json
import os
import subprocess
import time

import pytest

import flower_process
from conftest import port
from helpers import (
    PYTHON,
    ROOT,
    Process,
    client_of,
    fresh_copy,
    rabbitmq_version,
    readme_sessions,
    run_session,
    sessions,
    start_client,
    wait_for,
    wait_until_listening,
)
from images import STAND_INS, docker_ready
from test_monitor import states_by_task

PORT, MANAGEMENT_PORT, FLOWER_PORT = port(5682), port(18082), port(5562)
URL = f"pyamqp://guest@localhost:{PORT}//"  # the post's URL, on the tests' port
# A project of its own, on ports of its own: a stack that `make up` runs is not touched.
PROJECT = "celery-memo-tests"
STACK_ENV = {
    "COMPOSE_PROJECT_NAME": PROJECT,
    "RABBITMQ_PORT": str(PORT),
    "RABBITMQ_MANAGEMENT_PORT": str(MANAGEMENT_PORT),
    "FLOWER_PORT": str(FLOWER_PORT),
    # Long enough for the README's revoke sessions to catch a task running.
    "ADD_SLEEP": "3",
    **({"COMPOSE_FILE": f"docker-compose.yml:{STAND_INS}"} if STAND_INS.exists() else {}),
}
# The oldest engine the stack supports: Debian 12's docker.io, Docker 20.10.
OLDEST_API = {**STACK_ENV, "DOCKER_API_VERSION": "1.41"}


WHY_NOT = docker_ready()
pytestmark = [
    pytest.mark.skipif(
        bool(WHY_NOT),
        reason=f"{WHY_NOT}: start a Docker engine (20.10+) with Compose v2 to run the Docker "
        "path (on Debian as root: bash .ci/docker-engine.sh)",
    ),
    # A test's timeout counts its fixtures: the first test here waits for the stack to start.
    pytest.mark.timeout(150),
]


def run(*args, cwd, env=STACK_ENV, check=True, timeout=300):
    """Run a command in the copy of the repo, with a stack's settings."""
    shell = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}  # as a user's
    result = subprocess.run(
        args,
        cwd=cwd,
        env={**shell, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert not check or result.returncode == 0, result.stdout + result.stderr
    return result


def services(clone, env=STACK_ENV):
    """{service: its `docker compose ps` record}."""
    out = run("docker", "compose", "ps", "--all", "--format", "json", cwd=clone, env=env).stdout
    records = json.loads(out) if out.startswith("[") else [json.loads(r) for r in out.splitlines()]
    return {record["Service"]: record for record in records}


FILES = {}  # the copy's files before and after `docker compose up`


def files(clone):
    """The files and directories in clone, relative to it."""
    return sorted(p.relative_to(clone) for p in clone.rglob("*"))


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A fresh copy of the repo, its stack brought up by a plain `docker compose up`."""
    clone = fresh_copy(tmp_path_factory.mktemp("docker") / "celery-memo")
    run("docker", "compose", "down", "--volumes", cwd=clone)  # what an interrupted run left
    (clone / ".venv").symlink_to(ROOT / ".venv")  # as after `make install`, for the make tests
    # The image as this project builds it: Compose labels an image with the project that
    # built it, so one built by another project (yours) would be rebuilt by `make up`.
    run("docker", "compose", "build", cwd=clone, env=OLDEST_API)
    FILES["before"] = files(clone)
    try:
        up = run("docker", "compose", "up", "-d", "--wait", cwd=clone, env=OLDEST_API, check=False)
        logs = run("docker", "compose", "logs", cwd=clone, check=False).stdout
        assert up.returncode == 0, up.stderr + logs[-3000:]
        FILES["up"] = files(clone)
        yield clone
    finally:
        run("docker", "compose", "down", "--volumes", cwd=clone, check=False)


def start_interval(container):
    """A container's healthcheck start_interval, in nanoseconds (0: not set)."""
    inspect = ["docker", "inspect", "-f", "{{json .Config.Healthcheck}}", container]
    return json.loads(run(*inspect, cwd=ROOT).stdout).get("StartInterval", 0)


@pytest.fixture
def client(clone, monkeypatch):
    """A client of this module's stack."""
    yield from client_of(URL, monkeypatch)


def add(client, *args):
    """add.delay(*args), sent by name from this client."""
    return client.send_task("tasks.add", args)


def test_a_plain_compose_up_from_a_fresh_clone_comes_up_healthy(clone):
    states = {name: (s["State"], s["Health"]) for name, s in services(clone).items()}
    assert states == {
        "rabbitmq": ("running", "healthy"),
        "worker": ("running", "healthy"),
        "flower": ("running", "healthy"),
    }
    # What Docker 20.10 takes: no start_interval, which it would refuse.
    assert {start_interval(s["ID"]) for s in services(clone).values()} == {0}


@pytest.mark.usefixtures("clone")
def test_the_stack_writes_nothing_in_the_repo_it_runs_from():
    # The worker and Flower import the lesson files from /app, the copy mounted read-only.
    assert FILES["up"] == FILES["before"]


def test_every_published_port_is_on_loopback(clone):
    published = [
        (p["URL"], p["PublishedPort"])
        for s in services(clone).values()
        for p in s["Publishers"] or []
        if p["PublishedPort"]
    ]
    assert sorted(port for _, port in published) == sorted([PORT, MANAGEMENT_PORT, FLOWER_PORT])
    assert {url for url, _ in published} == {"127.0.0.1"}


def test_the_worker_and_flower_run_as_a_user_and_no_log_warns_of_root(clone):
    for service in ("worker", "flower"):
        uid = run("docker", "compose", "exec", "-T", service, "id", "-u", cwd=clone).stdout
        assert uid.strip() != "0", service
    logs = run("docker", "compose", "logs", cwd=clone).stdout
    assert "SecurityWarning" not in logs
    assert "superuser privileges" not in logs


@pytest.mark.parametrize(
    "session", readme_sessions() + sessions("docs/hard-tasks.md"), ids=lambda s: s.name
)
def test_the_sessions_run_as_shown_on_the_compose_stack(session, clone):
    result = run_session(session.text, CELERY_BROKER_URL=URL)
    if result.returncode:  # the message, with the worker's log, on failure only
        log = run("docker", "compose", "logs", "--tail", "40", "worker", cwd=clone).stdout
        pytest.fail(result.stdout + result.stderr + log)


def test_on_4_0_a_countdown_task_holds_the_workers_one_prefetch_slot(client):
    assert rabbitmq_version(client)[:2] == (4, 0)  # the stand-in (3.10: test_hard_tasks.py)
    sent = time.monotonic()
    later = client.send_task("hard_tasks.pause", (0,), countdown=2)
    now = client.send_task("hard_tasks.pause", (0,))  # due at once, yet it waits

    assert now.get(timeout=20) == 0
    assert later.ready() and time.monotonic() - sent >= 2  # it ran only after `later`


def test_monitor_py_sees_the_compose_workers_tasks(client, tmp_path):
    monitor = Process([PYTHON, "monitor.py"], tmp_path / "monitor.log", CELERY_BROKER_URL=URL)
    try:
        wait_until_listening(monitor, client)
        result = add(client, 2, 3)
        assert result.get(timeout=30) == 5
        wait_for(lambda: "SUCCESS" in states_by_task(monitor.output())[result.id])
    finally:
        monitor.stop()
    states = states_by_task(monitor.output())[result.id]
    assert sorted(states) == sorted(["PENDING", "RECEIVED", "STARTED", "SUCCESS"])


@pytest.mark.usefixtures("clone")
def test_flower_asks_for_a_login_and_shows_the_worker_and_the_queues():
    def request(path, auth=("flower", "flower")):  # flowerconfig.py's local default
        return flower_process.request(path, auth=auth, url=f"http://127.0.0.1:{FLOWER_PORT}")

    assert request("/api/workers", auth=None)[0] == 401
    status, workers = request("/api/workers?refresh=1")
    assert status == 200 and "celery@worker" in workers

    # The Broker page and its API read the queues from RabbitMQ's management API. Flower
    # asks for the ones its workers consume: right after start-up a CI run saw none yet.
    def queue_names():
        status, queues = request("/api/queues/length")
        assert status == 200
        return [q["name"] for q in queues["active_queues"]]

    wait_for(lambda: "celery" in queue_names(), 10, "Flower to list the queue celery")
    status, page = request("/broker")
    assert status == 200 and ">celery<" in page.replace("\n", "").replace(" ", "")


def test_make_up_takes_over_the_running_stack_and_status_and_logs_show_it(clone, client, tmp_path):
    containers = {name: s["ID"] for name, s in services(clone).items()}
    # On this client's API (1.44+ in CI), where make up would start a stack with
    # scripts/compose.start-interval.yml, it keeps the one that runs as it was started.
    up = run("make", "-s", "up", cwd=clone)
    assert "The stack is up (docker)" in up.stdout
    # The same containers: a task that was running goes on running.
    assert {name: s["ID"] for name, s in services(clone).items()} == containers
    assert "export CELERY_BROKER_URL" not in up.stdout  # the post's URL works as it is
    status = run("make", "-s", "status", cwd=clone).stdout
    assert f"{PROJECT}-worker-1" in status and "(healthy)" in status
    logs = Process(["make", "-s", "-C", str(clone), "logs"], tmp_path / "logs.log", **STACK_ENV)
    try:
        result = add(client, 2, 3)
        assert result.get(timeout=30) == 5
        logs.logged(f"Task tasks.add[{result.id}] succeeded")
    finally:
        logs.stop()


def test_a_task_queued_before_make_down_runs_after_make_up(clone):
    client, ids = start_client(URL, ["celery", "celery"], 60)

    run("make", "-s", "down", cwd=clone)
    assert services(clone) == {}
    up = run("make", "-s", "up", cwd=clone)
    assert "The stack is up (docker)" in up.stdout
    answers, _ = client.communicate("\n", timeout=90)

    assert json.loads(answers) == [1, 2]
    # By the new worker: a worker logs a success after it has sent the result.
    line = f"Task tasks.add[{ids[1]}] succeeded"
    wait_for(lambda: line in run("docker", "compose", "logs", "worker", cwd=clone).stdout, 20, line)


def test_a_stack_make_up_starts_is_checked_every_second_as_it_starts_and_kept_by_the_next(clone):
    containers = {name: s["ID"] for name, s in services(clone).items()}  # started by make up
    assert run("make", "-s", "up", cwd=clone).returncode == 0
    assert {name: s["ID"] for name, s in services(clone).items()} == containers
    # On Engine 25+ (API 1.44), make up checks each service every second while it starts.
    api = run("docker", "version", "-f", "{{.Client.APIVersion}}", cwd=clone).stdout
    every = 10**9 if tuple(map(int, api.split("."))) >= (1, 44) else 0
    assert {name: start_interval(ID) for name, ID in containers.items()} == {
        "rabbitmq": every,
        "worker": every,
        "flower": every,
    }


def test_make_clean_deletes_the_volumes(clone):
    def volumes():
        out = run("docker", "volume", "ls", "-q", "--filter", f"name={PROJECT}_", cwd=clone)
        return set(out.stdout.split())

    assert {f"{PROJECT}_{v}-data" for v in ("rabbitmq", "worker", "flower")} <= volumes()
    run("make", "-s", "clean", cwd=clone)

    assert volumes() == set()
    assert services(clone) == {}
    assert not (clone / ".run").exists()


def test_no_image_made_from_a_stand_in_takes_a_name_a_users_stack_runs(clone):
    made = ["docker", "images", "--filter", "label=celery-memo.stand-in", "--format"]
    names = run(*made, "{{.Repository}}:{{.Tag}}", cwd=clone).stdout.split()

    assert all(name.startswith("celery-memo-stand-in/") for name in names), names
