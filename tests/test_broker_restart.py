"""RabbitMQ restarted for real, with tasks queued, running, and answered but unread.

What survives what (docs/what-survives-what.md): none lost where the settings say so.
"""

import json

from conftest import SPARE_URL
from helpers import start_client


def test_queued_and_running_tasks_outlive_a_broker_restart(spare_broker, start_worker):
    worker = start_worker("survivor", CELERY_BROKER_URL=SPARE_URL, ADD_SLEEP="3")
    repl, ids = start_client(SPARE_URL, ["celery"] * 3, timeout=30)
    worker.logged(f"[{ids[0]}] received")

    spare_broker()
    answers, _ = repl.communicate("\n", timeout=60)

    assert json.loads(answers) == [1, 2, 3]
    # The task running when the broker went down could not be acknowledged, so it ran
    # again; the others ran once.
    assert sorted(worker.output().count(f"[{i}] received") for i in ids) == [1, 1, 2]
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
