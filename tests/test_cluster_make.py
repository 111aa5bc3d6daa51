"""`make cluster-up` and `make cluster-down` as docs/cluster.md runs them: three nodes
clustered, a worker and Flower on them, a REPL with the settings it prints; and on that
cluster, with its worker, the chapter's session and the nodes that die and come back
while monitor.py, Flower and the REPL carry on."""

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest

import flower_process
from clusters import Cluster, answers
from conftest import RUN, port
from helpers import (
    PYTHON,
    Process,
    listening,
    run_session,
    sessions,
    wait_for,
    wait_until_listening,
)
from test_stack import make

# A test's timeout counts its fixtures: the first test here waits for `make cluster-up`.
pytestmark = pytest.mark.timeout(150)

PORTS = [port(5881 + n) for n in range(3)]  # neither a user's cluster's nor test_cluster's
FLOWER_PORT = port(5886)
FLOWER_URL = f"http://127.0.0.1:{FLOWER_PORT}"
CLUSTER = {
    "CLUSTER": "native",  # docker-compose.cluster.yml has tests of its own
    "CLUSTER_DIR": str(RUN / "make-cluster"),
    "CLUSTER_PORTS": " ".join(map(str, PORTS)),
    "CLUSTER_MANAGEMENT": "off",  # no UI: each node boots and stops sooner
    "FLOWER_PORT": str(FLOWER_PORT),
    "ADD_SLEEP": "1",  # as docs/cluster.md starts it
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


@pytest.fixture(scope="module")
def cluster(cluster_up):
    """The cluster `make cluster-up` started, with its worker and Flower."""
    assert cluster_up.returncode == 0, cluster_up.stdout + cluster_up.stderr
    return Cluster(CLUSTER)


def test_make_cluster_up_returns_with_the_nodes_clustered_and_the_worker_ready(cluster):
    status = cluster.run("ctl", "3", "cluster_status", "--formatter", "json")
    names = sorted(re.findall(r'"(celery-memo-\d+-\d@localhost)"', status))
    assert set(names) == {f"celery-memo-{PORTS[0]}-{n}@localhost" for n in (1, 2, 3)}
    assert '"running_nodes":["' in status.replace(" ", "")
    assert listening(FLOWER_PORT)
    assert any("celery -A tasks worker" in line for line in running()), running()
    # A task goes back to its queue 5 times at most, then to celery.dead.
    policy = json.loads(cluster.run("ctl", "1", "list_policies", "--formatter", "json"))
    assert [json.loads(p["definition"]) for p in policy] == [
        {"delivery-limit": 5, "dead-letter-exchange": "", "dead-letter-routing-key": "celery.dead"}
    ]


def test_the_repl_settings_make_cluster_up_prints_reach_its_worker(cluster_up):
    exports = dict(re.findall(r"\$ export (\w+)='?([^'\n]*?)'?$", cluster_up.stdout, re.M))
    assert exports.keys() == {"CELERY_CONFIG_MODULE", "CELERY_BROKER_URL"}, cluster_up.stdout
    session = ">>> from tasks import add\n>>> add.delay(2, 3).get(timeout=30)\n5\n"
    result = run_session(session, **exports)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("session", sessions("docs/cluster.md"), ids=lambda s: s.name)
def test_the_cluster_chapters_session_runs_as_shown_and_monitor_py_goes_on(session, node, client):
    # monitor.py in a second terminal, on node 1 as the REPL is: the session kills it.
    app = client(2)
    monitor = Process(
        [PYTHON, "monitor.py"], RUN / "cluster-monitor.log",
        CELERY_CONFIG_MODULE="clusterconfig", CELERY_BROKER_URL=node.urls(1),
    )  # fmt: skip
    try:
        wait_until_listening(monitor, app)
        # The worker is on whichever node it drew: if on node 1, it runs the task again.
        node.down.add(1)
        result = run_session(
            session.text,
            timeout=90,  # get(timeout=30) after a kill, on a loaded machine
            CELERY_CONFIG_MODULE="clusterconfig",
            CELERY_BROKER_URL=node.urls(1),
            **CLUSTER,
        )
        assert result.returncode == 0, result.stdout + result.stderr

        monitor.logged("monitor: lost the broker (")
        again = monitor.logged("monitor: connected again, to amqp://guest:**@")
        assert re.search(
            rf"connected again, to amqp://guest:\*\*@127\.0\.0\.1:({PORTS[1]}|{PORTS[2]})//", again
        )
        node.led_again(asking=2)
        sent = app.send_task("tasks.add", (2, 3))
        assert sent.get(timeout=15) == 5
        monitor.logged(f"Status: SUCCESS[tasks.add] {sent.id}")
    finally:
        monitor.stop(signal.SIGKILL)


def flowers_node(log):
    """The node (1, 2 or 3) that the cluster's Flower is connected to now: the last one its
    log names (a node that died in an earlier test may have moved it from its first URL)."""
    last = re.findall(r"Connected to amqp://guest:\*\*@127\.0\.0\.1:(\d+)//", log)[-1]
    return PORTS.index(int(last)) + 1


def test_flower_connects_again_when_its_node_dies_and_shows_the_tasks_sent_after(node, client):
    flower_log = Path(CLUSTER["CLUSTER_DIR"], "flower.log")
    before = flower_log.read_text()
    dead = flowers_node(before)
    alive = next(n for n in (1, 2, 3) if n != dead)
    app = client(alive)

    node.kill(dead)
    node.led_again(asking=alive)
    sent = app.send_task("tasks.add", (2, 3))
    assert sent.get(timeout=15) == 5

    def state():
        status, task = flower_process.request(
            f"/api/task/info/{sent.id}", auth=("flower", "flower"), url=FLOWER_URL
        )
        return status == 200 and task["state"]

    wait_for(lambda: state() == "SUCCESS", 20, "Flower to show the task's success")
    # It was on the node that died, and is on another now.
    log = flower_log.read_text()[len(before) :]
    others = "|".join(str(PORTS[n - 1]) for n in (1, 2, 3) if n != dead)
    connected_again = (
        rf"Failed to capture events: .*\n.*Connected to amqp://guest:\*\*@127\.0\.0\.1:({others})//"
    )
    assert re.search(connected_again, log), log[-2000:]


def test_a_node_that_rejoins_takes_its_part_and_another_can_die(node, client):
    app = client(2)
    node.kill(1)
    node.led_again(asking=2)
    assert answers([app.send_task("tasks.add", (n, n)) for n in range(3)]) == [0, 2, 4]

    node.start_all()  # node 1 boots again and rejoins
    # With node 2 down too, nodes 1 and 3 are the majority that must accept each task:
    # they answer only if node 1 is a member again, with what was sent while it was down.
    node.kill(2)  # the client's
    node.led_again(asking=3)

    assert answers([app.send_task("tasks.add", (n, n)) for n in range(3)]) == [0, 2, 4]


def test_make_cluster_down_stops_the_nodes_the_worker_and_flower(cluster):
    down = make("cluster-down", **CLUSTER)
    assert (down.returncode, down.stderr) == (0, ""), down.stderr  # a killed node said nothing
    assert not any(listening(p) for p in (*PORTS, FLOWER_PORT))
    assert running() == []
