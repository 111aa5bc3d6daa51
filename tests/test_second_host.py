"""A second host: a worker in a network namespace of its own, on a veth link to RabbitMQ."""

import json
import signal
import subprocess

import pytest

import host2
from conftest import SPARE_PORT, SPARE_URL
from helpers import PYTHON, start_client, wait_for

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
        "host2",
        "-Q",
        QUEUE,
        prefix=["ip", "netns", "exec", host2.NAMESPACE],
        CELERY_BROKER_URL=THERE,
        ADD_SLEEP="5",  # still running when the link is cut
    )
    yield process
    process.stop(signal.SIGKILL)  # cut off, it would wait for the broker to say goodbye
    host2.ip("link", "set", host2.LINK, "up")


def test_two_hosts_share_the_tasks_and_a_cut_link_loses_none(host2_worker, start_worker):
    host1_worker = start_worker("host1", "-Q", QUEUE, CELERY_BROKER_URL=SPARE_URL)
    repl, ids = start_client(SPARE_URL, [QUEUE] * 4, timeout=30)
    cut = wait_for(
        lambda: next((i for i in ids if f"[{i}] received" in host2_worker.output()), None),
        what=lambda: f"host 2 to take a task; its log ends:\n{host2_worker.output()[-2000:]}",
    )

    host2.ip("link", "set", host2.LINK, "down")  # cut off in the middle of its task
    answers, _ = repl.communicate("\n", timeout=60)

    assert json.loads(answers) == [1, 2, 3, 4]
    assert f"[{cut}] succeeded" in host1_worker.output()  # its task ran again, on host 1
    assert any(f"[{i}] received" in host1_worker.output() for i in ids if i != cut)


def test_guest_is_refused_from_another_host(spare_broker):
    guest = f"pyamqp://guest:guest@{host2.HOST1}:{SPARE_PORT}//"
    connect = f"from kombu import Connection; Connection({guest!r}).connect()"

    tried = subprocess.run(
        ["ip", "netns", "exec", host2.NAMESPACE, PYTHON, "-c", connect],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert tried.returncode != 0
    assert "ACCESS_REFUSED" in tried.stderr  # RabbitMQ lets guest in from localhost only
