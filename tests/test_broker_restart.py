"""RabbitMQ restarted for real, with tasks queued, running, and answered but unread.

What survives what (docs/what-survives-what.md): none lost where the settings say so.
"""

import json
import os
import signal
from pathlib import Path

from conftest import SPARE_URL
from helpers import start_client


def pool_process(worker):
    """The pid of the worker's pool process, the one that runs its tasks."""
    pid = worker.popen.pid
    return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])


def test_queued_and_running_tasks_outlive_a_broker_restart(spare_broker, start_worker):
    worker = start_worker("survivor", CELERY_BROKER_URL=SPARE_URL, ADD_SLEEP="3")
    repl, ids = start_client(SPARE_URL, ["celery"] * 2, timeout=30)
    worker.logged(f"[{ids[0]}] received")

    # Paused, its task is still running when the broker goes down, however long
    # rabbitmqctl takes to start on a busy machine.
    os.kill(pool_process(worker), signal.SIGSTOP)
    spare_broker()
    os.kill(pool_process(worker), signal.SIGCONT)
    answers, _ = repl.communicate("\n", timeout=60)

    assert json.loads(answers) == [1, 2]
    # The task running when the broker went down could not be acknowledged, so it ran
    # again; the queued one ran once.
    assert [worker.output().count(f"[{i}] received") for i in ids] == [2, 1]
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
