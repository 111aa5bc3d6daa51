"""`make cluster-up` and `make cluster-down` as docs/cluster.md runs them: three nodes
clustered, a worker and Flower on them, and a REPL with the settings it prints."""

import re
import subprocess

import pytest

from conftest import RUN, port
from helpers import listening, run_session
from test_cluster import cluster
from test_stack import make

# A test's timeout counts its fixtures: the first test here waits for `make cluster-up`.
pytestmark = pytest.mark.timeout(150)

PORTS = [port(5881 + n) for n in range(3)]  # neither a user's cluster's nor test_cluster's
FLOWER_PORT = port(5886)
CLUSTER = {
    "CLUSTER_DIR": str(RUN / "make-cluster"),
    "CLUSTER_PORTS": " ".join(map(str, PORTS)),
    "CLUSTER_MANAGEMENT": "off",
    "FLOWER_PORT": str(FLOWER_PORT),
    "ADD_SLEEP": "0",
}


def running():
    """The command lines of the processes the cluster's directory is in: its nodes, the
    worker (its pid and log files) and Flower."""
    found = subprocess.run(["pgrep", "-af", CLUSTER["CLUSTER_DIR"]], capture_output=True, text=True)
    return found.stdout.splitlines()


@pytest.fixture(scope="module")
def cluster_up():
    """What `make cluster-up` printed; `make cluster-down` after the module's tests."""
    yield make("cluster-up", **CLUSTER)
    make("cluster-down", **CLUSTER)


def test_make_cluster_up_returns_with_the_nodes_clustered_and_the_worker_ready(cluster_up):
    assert cluster_up.returncode == 0, cluster_up.stdout + cluster_up.stderr
    status = cluster("ctl", "3", "cluster_status", "--formatter", "json", settings=CLUSTER)
    names = sorted(re.findall(r'"(celery-memo-\d+-\d@localhost)"', status))
    assert set(names) == {f"celery-memo-{PORTS[0]}-{n}@localhost" for n in (1, 2, 3)}
    assert '"running_nodes":["' in status.replace(" ", "")
    assert listening(FLOWER_PORT)
    assert any("celery -A tasks worker" in line for line in running()), running()


def test_the_repl_settings_make_cluster_up_prints_reach_its_worker(cluster_up):
    exports = dict(re.findall(r"\$ export (\w+)='?([^'\n]*?)'?$", cluster_up.stdout, re.M))
    assert exports.keys() == {"CELERY_CONFIG_MODULE", "CELERY_BROKER_URL"}, cluster_up.stdout
    session = ">>> from tasks import add\n>>> add.delay(2, 3).get(timeout=30)\n5\n"
    result = run_session(session, **exports)
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_cluster_down_stops_the_nodes_the_worker_and_flower(cluster_up):
    assert make("cluster-down", **CLUSTER).returncode == 0
    assert not any(listening(p) for p in (*PORTS, FLOWER_PORT))
    assert running() == []
