"""A second host as far as the network goes: a worker in a network namespace of its own, on
a veth link to RabbitMQ (the same kernel and file system as this one)."""

import signal
import subprocess

import pytest

import host2
from conftest import SPARE_PORT, SPARE_URL
from helpers import PYTHON, Held

THERE = f"pyamqp://{host2.USER}:{host2.PASSWORD}@{host2.HOST1}:{SPARE_PORT}//"
# A queue of this file's own: tasks another test left on the spare node stay out of it.
QUEUE = "two-hosts"

pytestmark = pytest.mark.skipif(
    not host2.POSSIBLE, reason="needs root and iproute2 to make a network namespace"
)


@pytest.fixture
def host2_worker(spare_broker, start_worker):
    """A worker on host 2, reaching the broker over the link."""
    process = start_worker(
        "host2", "-Q", QUEUE, prefix=["ip", "netns", "exec", host2.NAMESPACE],
        CELERY_BROKER_URL=THERE,
    )  # fmt: skip
    yield process
    process.stop(signal.SIGKILL)  # cut off, it would wait for the broker to say goodbye
    host2.ip("link", "set", host2.LINK, "up")


def test_a_worker_behind_another_network_link_shares_the_tasks_and_a_cut_loses_none(
    host2_worker, start_worker, spare_client, tmp_path
):
    host1_worker = start_worker("host1", "-Q", QUEUE, CELERY_BROKER_URL=SPARE_URL)
    # One task for each host: each takes one at a time, and holds it until released.
    held = [Held(tmp_path, QUEUE, spare_client) for _ in range(2)]
    for task in held:
        task.started()
    cut = next(task for task in held if f"[{task.result.id}] received" in host2_worker.output())

    host2.ip("link", "set", host2.LINK, "down")  # cut off in the middle of its task
    for task in held:
        task.release()

    assert all(isinstance(task.result.get(timeout=30), int) for task in held)
    host1_worker.logged(f"[{cut.result.id}] succeeded")  # its task ran again, on host 1


def test_guest_is_refused_from_another_host(spare_broker):
    guest = f"pyamqp://guest:guest@{host2.HOST1}:{SPARE_PORT}//"
    connect = f"from kombu import Connection; Connection({guest!r}).connect()"

    tried = subprocess.run(
        ["ip", "netns", "exec", host2.NAMESPACE, PYTHON, "-c", connect],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert tried.returncode != 0
    assert "ACCESS_REFUSED" in tried.stderr  # RabbitMQ lets guest in from localhost only
