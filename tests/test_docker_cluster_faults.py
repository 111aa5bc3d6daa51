"""test_cluster.py's faults on the Compose cluster: docker-compose.cluster.yml's three
nodes as containers, each killed with `docker compose kill` and started again
(scripts/cluster.sh), with the tests' own workers and clients on this machine, through
the published ports. Skipped where no Docker engine with Compose v2 runs (CI sets one up)."""

import subprocess

import pytest

from clusters import Cluster
from conftest import port
from helpers import ROOT
from images import STAND_INS, docker_ready
from test_cluster import (  # noqa: F401 (the same tests, on this module's cluster)
    test_a_quorum_queue_without_the_policy_drops_a_task_back_20_times_on_4_0_not_on_3_10,
    test_a_revoke_sent_while_the_worker_reconnects_is_lost_and_one_sent_after_holds,
    test_a_task_that_kills_its_worker_every_time_ends_in_the_dead_letter_queue,
    test_a_task_whose_workers_node_dies_mid_run_runs_again_and_answers,
    test_tasks_queued_on_a_leader_that_dies_run_once_each_and_answer,
    test_when_the_clients_node_dies_stock_settings_lose_answers_cluster_settings_keep_them,
    test_with_two_nodes_down_a_send_times_out_in_seconds_and_no_accepted_task_is_lost,
)
from test_docker_cluster import stand_ins

WHY_NOT = docker_ready()
pytestmark = [
    pytest.mark.skipif(bool(WHY_NOT), reason=f"{WHY_NOT}: start a Docker engine to run this"),
    # A test's timeout counts its fixtures: the first test here also waits for the nodes.
    pytest.mark.timeout(150),
]

PORTS = [port(6081 + n) for n in range(3)]  # 10 apart for each test process: clear of 5981-5983
SETTINGS = {
    "CLUSTER": "docker",
    "CLUSTER_PORTS": " ".join(map(str, PORTS)),
    "COMPOSE_PROJECT_NAME": f"celery-memo-cluster-faults-{port(0)}",
}


@pytest.fixture(scope="module")
def cluster():
    """The three nodes and the policy, without the Compose worker and Flower: each test
    starts workers of its own, as test_cluster.py's do."""
    files = ["docker-compose.cluster.yml", *([str(stand_ins())] if STAND_INS.exists() else [])]
    nodes = Cluster({**SETTINGS, "CLUSTER_COMPOSE_FILE": ":".join(files)})
    down = ["docker", "compose", "--project-name", SETTINGS["COMPOSE_PROJECT_NAME"]]
    down += [*(f"--file={f}" for f in files), "down", "--volumes"]
    subprocess.run(down, cwd=ROOT, capture_output=True)  # what an interrupted run left
    try:
        nodes.run("start")
        yield nodes
    finally:
        subprocess.run(down, cwd=ROOT, capture_output=True)
