"""Fixtures for the tests of a three-node RabbitMQ cluster (scripts/cluster.sh): its
nodes, killed and booted again, and workers and clients on it. A module that uses them
defines a module-scoped `cluster` fixture: a Cluster, booted its own way."""

import os
import subprocess

import pytest

from helpers import ROOT, client_of, wait_for


class Cluster:
    """A cluster that scripts/cluster.sh runs with settings (CLUSTER_DIR, CLUSTER_PORTS...);
    its nodes are killed (SIGKILL) and booted again as a test needs."""

    def __init__(self, settings):
        self.settings = settings
        self.ports = [int(p) for p in settings["CLUSTER_PORTS"].split()]
        self.down = set()

    def run(self, *args):
        """Run scripts/cluster.sh on this cluster; return what it printed."""
        return subprocess.run(
            [ROOT / "scripts" / "cluster.sh", *args],
            cwd=ROOT,
            env={**os.environ, **self.settings},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout

    def urls(self, first):
        """The cluster's URLs as broker_url lists them, node first (1, 2 or 3) first."""
        order = [first, *(n for n in (1, 2, 3) if n != first)]
        return ";".join(f"pyamqp://guest@localhost:{self.ports[n - 1]}//" for n in order)

    def leader(self, queue, asking=1):
        """The node (1, 2 or 3) that leads the quorum queue, as node asking says (or None)."""
        rows = self.run(
            "ctl", str(asking), "list_queues", "name", "leader", "--quiet", "--no-table-headers"
        )
        leaders = dict(row.split("\t") for row in rows.splitlines())
        names = {  # scripts/cluster.sh's native nodes, or docker-compose.cluster.yml's
            **{f"celery-memo-{self.ports[0]}-{n}@localhost": n for n in (1, 2, 3)},
            **{f"rabbit@rabbitmq{n}": n for n in (1, 2, 3)},
        }
        return names.get(leaders.get(queue))

    def kill(self, n):
        self.run("kill", str(n))
        self.down.add(n)

    def led_again(self, asking):
        """Wait until the task queue has a leader that is up, as node asking says. Until
        then a task sent may be refused (nacked): delay() raises OperationalError."""
        wait_for(
            lambda: self.leader("celery", asking) not in (None, *self.down), 15, "a new leader"
        )

    def start_all(self):
        """Boot every node that is down; each rejoins the others."""
        for n in sorted(self.down):
            self.run("start", str(n))
        self.down.clear()


@pytest.fixture
def node(cluster):
    """The module's cluster, every node up as the test starts, to kill(n). (A node killed
    stays down until the next test that needs it: the last one's is never booted again.)"""
    cluster.start_all()
    return cluster


@pytest.fixture
def cluster_worker(start_worker, cluster):
    """start_worker(name, first_node, settings="clusterconfig", ...) on the cluster."""

    def start(name, first, *args, settings="clusterconfig", **env):
        return start_worker(
            name, *args, CELERY_CONFIG_MODULE=settings, CELERY_BROKER_URL=cluster.urls(first), **env
        )

    return start


@pytest.fixture
def client(monkeypatch, cluster):
    """client(first_node, settings="clusterconfig"): a client app connected there first."""
    apps = []

    def make(first, settings="clusterconfig"):
        generator = client_of(cluster.urls(first), monkeypatch, settings)
        apps.append(generator)
        return next(generator)

    yield make
    for generator in apps:
        next(generator, None)


def answers(results, timeout=15):
    """What get() gives for each result: the answer, or the exception's name and message."""
    out = []
    for result in results:
        try:
            out.append(result.get(timeout=timeout))
        except Exception as error:  # what the user gets, to compare
            out.append(f"{type(error).__name__}: {error}")
    return out
