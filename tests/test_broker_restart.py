"""RabbitMQ restarted for real (once the whole node, once the application in its Erlang
VM), with tasks queued, running, and answered but unread.

What survives what (docs/what-survives-what.md): none lost where the settings say so.
"""

import json

import pytest

from conftest import SPARE_URL
from helpers import Held, start_client

# A test's timeout counts its fixtures: the first test of the spare node's boots it (and
# host 2), then boots it again, and the worker waits out its reconnect backoff (2, 4, 6 s
# and on). Under the suite's load that took 51 + 45 s here, and over 150 s once in CI.
pytestmark = pytest.mark.timeout(240)


def test_queued_and_running_tasks_outlive_a_broker_restart(
    spare_broker, start_worker, spare_client, tmp_path
):
    worker = start_worker("survivor", CELERY_BROKER_URL=SPARE_URL)
    running = Held(tmp_path, "celery", spare_client)
    queued = Held(tmp_path, "celery", spare_client)  # behind it: one pool process
    running.started()  # and held there while RabbitMQ restarts

    spare_broker(whole_node=True)  # the node itself, not only RabbitMQ in its VM
    running.release()
    queued.release()

    for held in (running, queued):  # the worker's log says why, if it never gets there
        worker.logged(f"[{held.result.id}] succeeded", timeout=120)
    assert all(isinstance(h.result.get(timeout=30), int) for h in (running, queued))
    # The task running when the broker went down could not be acknowledged, so it ran
    # again; the queued one ran once.
    received = [worker.output().count(f"[{h.result.id}] received") for h in (running, queued)]
    assert received == [2, 1]
    assert "CPendingDeprecationWarning" in worker.output()  # see What survives what


def test_an_unread_result_outlives_a_broker_restart_only_if_persistent(spare_broker, start_worker):
    persistent = start_worker("persistent", "-Q", "kept", CELERY_BROKER_URL=SPARE_URL)
    transient = start_worker(
        "transient", "-Q", "lost", CELERY_BROKER_URL=SPARE_URL, CELERY_RESULT_PERSISTENT="false"
    )
    repl, (kept, lost) = start_client(SPARE_URL, ["kept", "lost"], timeout=3)
    persistent.logged(f"[{kept}] succeeded")
    transient.logged(f"[{lost}] succeeded")

    spare_broker()
    answers, _ = repl.communicate("\n", timeout=30)

    # The rpc reply queue is durable, so it comes back after the restart; the
    # answer waiting in it comes back only if it was a persistent message.
    assert json.loads(answers) == [1, "TimeoutError"]
