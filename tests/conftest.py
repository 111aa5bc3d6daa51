"""Fixtures: the tests' own RabbitMQ node and the post's worker, both real."""

import os
import shutil
import socket
import subprocess

import pytest

import host2
from helpers import PYTHON, ROOT, Process, wait_for

RUN = ROOT / ".run" / "tests"
BROKER_PORT = 5673
BROKER_URL = f"pyamqp://guest@localhost:{BROKER_PORT}//"
# The worker's add() sleeps this long: long enough to see it run, short for a test.
ADD_SLEEP = 1.0
WORKER = f"celery@{socket.gethostname()}"


def node_settings(name, port, **more):
    """scripts/rabbitmq.sh settings for a node of the tests' own."""
    return {
        "RABBITMQ_DIR": str(RUN / f"{name}-rabbitmq"),
        "RABBITMQ_NODE": f"celery-memo-{name}",
        "RABBITMQ_PORT": str(port),
        # No management UI: the tests do not use it, and the node stops 5 s sooner.
        "RABBITMQ_MANAGEMENT_PORT": "off",
        **more,
    }


# Its own node, ports and directory: a stack left by `make up` is never touched.
BROKER_ENV = node_settings("tests", BROKER_PORT)
# Every process the tests start, and tasks.py imported here, use the tests' broker,
# and their workers keep their revoked ids apart from a user's.
os.environ["CELERY_BROKER_URL"] = BROKER_URL
os.environ["CELERY_WORKER_STATE_DB"] = str(RUN / "%n.state")


def rabbitmq(*args, **node):
    """Run scripts/rabbitmq.sh for the tests' node, or for the node that settings name."""
    subprocess.run(
        [ROOT / "scripts" / "rabbitmq.sh", *args],
        cwd=ROOT,
        env={**os.environ, **(node or BROKER_ENV)},
        check=True,
        stdout=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def broker():
    """A fresh RabbitMQ node for this test session; yields its URL."""
    rabbitmq("stop")
    shutil.rmtree(RUN, ignore_errors=True)
    RUN.mkdir(parents=True)
    rabbitmq("start")
    yield BROKER_URL
    rabbitmq("stop")


SPARE_PORT = 5675
SPARE_URL = f"pyamqp://guest@localhost:{SPARE_PORT}//"
SPARE_NODE = node_settings(
    "spare",
    SPARE_PORT,
    # Heartbeats every 2 s: a connection over a cut link is closed within seconds.
    RABBITMQ_EXTRA_CONFIG="heartbeat = 2"
    + (f"\\nlisteners.tcp.host2 = {host2.HOST1}:{SPARE_PORT}" if host2.POSSIBLE else ""),
)


@pytest.fixture(scope="session")
def spare_broker(broker):
    """A second node (port 5675) for the fault tests, free to be restarted, that
    host 2 reaches over its link where this machine can make one; yields restart()."""
    if host2.POSSIBLE:
        host2.create()
    rabbitmq("start", **SPARE_NODE)

    def restart():
        rabbitmq("stop", **SPARE_NODE)
        rabbitmq("start", **SPARE_NODE)

    yield restart
    rabbitmq("stop", **SPARE_NODE)
    if host2.POSSIBLE:
        host2.remove()


@pytest.fixture(scope="session")
def app(broker):
    """The tutorial's Celery app, as a REPL at the repo root imports it."""
    from tasks import app

    return app


@pytest.fixture(scope="session")
def worker(app):
    """`make worker`: the post's worker command, running until the session ends."""
    process = Process(
        ["make", "--no-print-directory", "worker"], RUN / "worker.log", ADD_SLEEP=str(ADD_SLEEP)
    )
    wait_for(
        lambda: app.control.ping(destination=[WORKER], timeout=0.5),
        timeout=60,
        what=f"{WORKER} to answer a ping",
    )
    yield process
    process.stop()


@pytest.fixture
def start_worker(broker):
    """Start more workers: start_worker(name, *args, prefix=(), **env); each is stopped
    afterwards. A prefix runs the worker through another command (`ip netns exec ...`)."""
    started = []

    def start(name, *args, prefix=(), **env):
        node = f"{name}@{socket.gethostname()}"
        process = Process(
            [
                *prefix,
                PYTHON,
                "-m",
                "celery",
                "-A",
                "tasks",
                "worker",
                "--loglevel=info",
                "--concurrency=1",
                "-n",
                node,
                "--without-mingle",  # a second faster: these workers need no neighbours' state
                *args,
            ],
            RUN / f"{name}.log",
            **{"ADD_SLEEP": str(ADD_SLEEP), **env},
        )
        started.append(process)
        wait_for(lambda: f"{node} ready." in process.output(), what=f"{node} to be ready")
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def slow_worker(start_worker):
    """A worker on queue "slow" whose add() runs long enough to be stopped by hand."""
    return start_worker("slow", "-Q", "slow", ADD_SLEEP="30")
