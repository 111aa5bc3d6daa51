"""docker-compose.cluster.yml on a real engine: a plain `docker compose up`, its client
pinned to Docker 20.10's API (1.41), forms one cluster of three nodes with the worker and
Flower on it; a client with clusterconfig.py's settings gets its answers, also after the
worker's node dies, and the node rejoins (scripts/cluster.sh kills and starts it).
Skipped where no Docker engine with Compose v2 runs (CI sets one up)."""

import json

import pytest

from clusters import Cluster
from conftest import RUN, port
from helpers import ROOT
from images import STAND_INS, docker_ready
from test_docker import run, services
from test_stack import make

WHY_NOT = docker_ready()
pytestmark = [
    pytest.mark.skipif(bool(WHY_NOT), reason=f"{WHY_NOT}: start a Docker engine to run this"),
    # A test's timeout counts its fixtures: the first test here waits for the cluster.
    pytest.mark.timeout(180),
]

PORTS = [port(5981 + n) for n in range(3)]  # neither a user's cluster's nor the native tests'
SETTINGS = {
    "CLUSTER": "docker",
    "CLUSTER_PORTS": " ".join(map(str, PORTS)),
    "COMPOSE_PROJECT_NAME": f"celery-memo-cluster-tests-{port(0)}",
    "FLOWER_PORT": str(port(5986)),
    "ADD_SLEEP": "1",
}


def stand_ins():
    """The Compose file that runs the stand-ins (images.STAND_INS) as the cluster's services."""
    single = json.loads(STAND_INS.read_text())["services"]
    services = {f"rabbitmq{n}": single["rabbitmq"] for n in (1, 2, 3)}
    services["policy"] = single["rabbitmq"]
    for name in ("worker", "flower"):
        if name in single:  # the cluster's image, on a stand-in's name of its own
            image = single[name]["image"].replace(
                "celery-memo-python", "celery-memo-cluster-python"
            )
            services[name] = {**single[name], "image": image}
    path = RUN / "stand-ins.cluster.compose.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"services": services}, indent=2))
    return path


def compose_env(api=None):
    """The tests' cluster's settings as Compose reads them (scripts/cluster.sh sets the same)."""
    return {
        **SETTINGS,
        "COMPOSE_FILE": SETTINGS["CLUSTER_COMPOSE_FILE"],
        **{f"CLUSTER_PORT_{n}": str(PORTS[n - 1]) for n in (1, 2, 3)},
        **{f"CLUSTER_MANAGEMENT_PORT_{n}": str(PORTS[n - 1] + 10000) for n in (1, 2, 3)},
        **({"DOCKER_API_VERSION": api} if api else {}),
    }


def compose(*args, api=None):
    """docker compose ARGS on the tests' cluster."""
    return run("docker", "compose", *args, cwd=ROOT, env=compose_env(api), check=False)


def compose_file():
    """docker-compose.cluster.yml, and the stand-ins' file where they run, as COMPOSE_FILE."""
    return ":".join(
        ["docker-compose.cluster.yml", *([str(stand_ins())] if STAND_INS.exists() else [])]
    )


@pytest.fixture(scope="module")
def cluster():
    """The cluster a plain `docker compose up -d --wait` brought up, on the oldest API."""
    SETTINGS["CLUSTER_COMPOSE_FILE"] = compose_file()
    compose("down", "--volumes")  # what an interrupted run left
    try:
        up = compose("up", "-d", "--wait", api="1.41")
        assert up.returncode == 0, up.stderr + compose("logs").stdout[-3000:]
        yield Cluster(SETTINGS)
    finally:
        compose("down", "--volumes")


def test_a_plain_compose_up_forms_one_cluster_of_three_with_the_worker_and_flower(cluster):
    states = {
        name: (s["State"], s["Health"] or s["ExitCode"])
        for name, s in services(ROOT, compose_env()).items()
    }
    assert states == {
        **{f"rabbitmq{n}": ("running", "healthy") for n in (1, 2, 3)},
        "policy": ("exited", 0),  # it set the dead-letter policy, and ended
        "worker": ("running", "healthy"),
        "flower": ("running", "healthy"),
    }
    status = json.loads(cluster.run("ctl", "2", "cluster_status", "--formatter", "json"))
    assert sorted(status["running_nodes"]) == [f"rabbit@rabbitmq{n}" for n in (1, 2, 3)]
    assert "poison-tasks" in cluster.run("ctl", "1", "list_policies", "--quiet")


def test_a_task_answers_after_the_workers_node_dies_and_the_node_rejoins(cluster, client):
    # The Compose worker lists rabbitmq2 first; the client starts at node 1 (as the host sees it).
    app = client(1)
    assert app.send_task("tasks.add", (2, 3)).get(timeout=30) == 5
    assert "rabbitmq2:5672" in compose("logs", "worker").stdout

    cluster.kill(2)
    assert app.send_task("tasks.add", (4, 5)).get(timeout=30) == 9
    cluster.start_all()
    status = json.loads(cluster.run("ctl", "2", "cluster_status", "--formatter", "json"))
    assert sorted(status["running_nodes"]) == [f"rabbit@rabbitmq{n}" for n in (1, 2, 3)]


def test_the_cluster_publishes_only_amqp_and_the_ui_on_loopback(cluster):
    published = {
        (name, p["URL"], p["TargetPort"], p["PublishedPort"])
        for name, s in services(ROOT, compose_env()).items()
        for p in s["Publishers"] or []
        if p["PublishedPort"]
    }
    assert published == {
        *((f"rabbitmq{n}", "127.0.0.1", 5672, PORTS[n - 1]) for n in (1, 2, 3)),
        *((f"rabbitmq{n}", "127.0.0.1", 15672, PORTS[n - 1] + 10000) for n in (1, 2, 3)),
        ("flower", "127.0.0.1", 5555, int(SETTINGS["FLOWER_PORT"])),
    }


def test_make_cluster_up_takes_the_running_cluster_over_and_prints_its_settings(cluster):
    before = compose("ps", "-q").stdout.split()
    up = make("cluster-up", **SETTINGS)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "The cluster is up (3 nodes: rabbit@rabbitmq1, 2 and 3, on Docker)" in up.stdout
    assert "$ export CELERY_CONFIG_MODULE=clusterconfig" in up.stdout
    assert compose("ps", "-q").stdout.split() == before  # the same containers, not new ones
