"""The benchmark's own three-node cluster (scripts/cluster.sh), for its cluster row."""

import contextlib
import os
import subprocess
from pathlib import Path
from unittest import mock

import celeryconfig
import clusterconfig

# Its row in the benchmark's table (bench/profiles.py).
PROFILE = "cluster: quorum queues, confirms"
ROOT = Path(__file__).resolve().parent.parent
PORTS = (5771, 5772, 5773)  # neither a user's cluster's (5681-5683) nor the tests'
SETTINGS = {
    "CLUSTER_DIR": str(ROOT / ".run" / "bench-cluster"),
    "CLUSTER_PORTS": " ".join(map(str, PORTS)),
    "CLUSTER_MANAGEMENT": "off",
    "COMPOSE_PROJECT_NAME": "celery-memo-bench-cluster",
}
# Node 1 first, for the client and the worker both: the node the stall is measured on.
URLS = ";".join(f"pyamqp://guest@localhost:{port}//" for port in PORTS)

# clusterconfig.py's settings, where they differ from the tutorial's (not its URLs:
# CELERY_BROKER_URL names the benchmark's nodes). Its queue is a quorum queue too.
CLUSTER_SETTINGS = {
    name: value
    for name, value in vars(clusterconfig).items()
    if name.islower() and not name.startswith("_") and name != "broker_url"
    if vars(celeryconfig).get(name, object()) != value
} | {"task_create_missing_queue_type": "quorum"}


def cluster_sh(*args):
    """Run scripts/cluster.sh on the benchmark's cluster."""
    subprocess.run(
        [ROOT / "scripts" / "cluster.sh", *args],
        env={**os.environ, **SETTINGS},
        stdout=subprocess.DEVNULL,
        check=True,
    )


@contextlib.contextmanager
def cluster():
    """Boot the nodes, and point CELERY_BROKER_URL (the clients' and the workers') at
    them until the nodes are stopped again."""
    try:
        cluster_sh("start")
        with mock.patch.dict(os.environ, CELERY_BROKER_URL=URLS):
            yield
    finally:
        cluster_sh("down")


def kill_node(n):
    """Kill node n (SIGKILL, or `docker compose kill`)."""
    cluster_sh("kill", str(n))
