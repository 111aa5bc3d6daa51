"""test_cluster.py's faults on the Compose cluster: docker-compose.cluster.yml's three
nodes as containers, each killed with `docker compose kill` and started again
(scripts/cluster.sh), with the tests' own workers and clients on this machine, through
the published ports. Here the faults of a client's or a worker's connection; the task
queue's own (its leader, its majority, its delivery limit) are in
test_docker_cluster_quorum.py, on a cluster of its own, so that both run at once.
Skipped where no Docker engine with Compose v2 runs (CI sets one up)."""

import pytest

from clusters import Cluster
from conftest import port
from helpers import ROOT
from images import docker_ready
from test_cluster import (  # noqa: F401 (the same tests, on this module's cluster)
    test_a_revoke_sent_while_the_worker_reconnects_is_lost_and_one_sent_after_holds,
    test_a_task_whose_workers_node_dies_mid_run_runs_again_and_answers,
    test_when_the_clients_node_dies_stock_settings_lose_answers_cluster_settings_keep_them,
)
from test_docker import run
from test_docker_cluster import compose_file

WHY_NOT = docker_ready()
pytestmark = [
    pytest.mark.skipif(bool(WHY_NOT), reason=f"{WHY_NOT}: start a Docker engine to run this"),
    # A test's timeout counts its fixtures: the first test here also waits for the nodes.
    pytest.mark.timeout(150),
]


def compose_cluster(base, project):
    """A module's `cluster` fixture: the three nodes and the policy on ports base to
    base + 2 (10 apart for each test process), as Compose project `project`, without
    the Compose worker and Flower: each test starts workers of its own."""

    @pytest.fixture(scope="module")
    def cluster():
        compose = {"COMPOSE_FILE": compose_file(), "COMPOSE_PROJECT_NAME": f"{project}-{port(0)}"}
        nodes = Cluster(
            {
                "CLUSTER": "docker",
                "CLUSTER_PORTS": " ".join(str(port(base + n)) for n in range(3)),
                "CLUSTER_COMPOSE_FILE": compose["COMPOSE_FILE"],
                "COMPOSE_PROJECT_NAME": compose["COMPOSE_PROJECT_NAME"],
            }
        )
        down = ["docker", "compose", "down", "--volumes"]
        run(*down, cwd=ROOT, env=compose, check=False)  # what an interrupted run left
        try:
            nodes.run("start")
            yield nodes
        finally:
            run(*down, cwd=ROOT, env=compose, check=False)

    return cluster


cluster = compose_cluster(6081, "celery-memo-cluster-faults")  # clear of 5981-5983
