"""Faults caused for real: killed workers, a restarted worker, a missing broker.

Each test says what happened to every task it sent: none lost, none run when
revoked, and how many times each ran where a task may run twice.
"""

import os
import re
import signal
import socket
import time

import pytest
from celery import Celery
from celery.exceptions import TaskRevokedError
from kombu.exceptions import OperationalError
from kombu.utils.uuid import uuid

from helpers import PYTHON, Held, Process

HOST = socket.gethostname()
QUEUE = "faults"


def runs(worker, held):
    """How many times worker started held's task."""
    return worker.output().count(f"Task extra_tasks.hold[{held.result.id}] received")


def test_a_task_whose_pool_process_is_killed_runs_again(app, start_worker, tmp_path):
    worker = start_worker("faults", "-Q", QUEUE)
    held = Held(tmp_path, QUEUE)
    held.started()  # and held there until released
    stats = app.control.inspect(destination=[f"faults@{HOST}"], timeout=5).stats()
    killed = stats[f"faults@{HOST}"]["pool"]["processes"][0]
    os.kill(killed, signal.SIGKILL)
    held.started()  # again, in the pool process that replaced it
    held.release()

    assert held.result.get(timeout=20) != killed
    assert runs(worker, held) == 2  # cut short once, then run to the end
    assert "WorkerLostError" in worker.output()


def test_a_task_whose_worker_is_killed_runs_on_the_next_worker(start_worker, tmp_path):
    doomed = start_worker("doomed", "-Q", QUEUE)
    held = Held(tmp_path, QUEUE)
    held.started()
    doomed.stop(signal.SIGKILL)
    held.release()
    rescuer = start_worker("rescuer", "-Q", QUEUE)

    assert held.result.get(timeout=20)
    # Celery sends the result before it logs the success: wait for the line.
    rescuer.logged(f"[{held.result.id}] succeeded")
    assert (runs(doomed, held), runs(rescuer, held)) == (1, 1)


@pytest.mark.parametrize(
    ("state_db", "stop", "refused"),
    [(None, signal.SIGTERM, True), (None, signal.SIGKILL, False), ("", signal.SIGTERM, False)],
    ids=["clean stop", "killed", "in memory only"],
)
def test_a_revoke_outlives_a_worker_restart_only_after_a_clean_stop(
    app, start_worker, state_db, stop, refused
):
    from tasks import add

    env = {} if state_db is None else {"CELERY_WORKER_STATE_DB": state_db}
    task_id = uuid()
    first = start_worker("keeper", "-Q", "restart", **env)
    app.control.revoke(task_id, destination=[f"keeper@{HOST}"])
    first.logged(f"Tasks flagged as revoked: {task_id}")
    first.stop(stop)  # Celery writes worker_state_db as the worker exits cleanly
    start_worker("keeper", "-Q", "restart", **env)

    result = add.apply_async((2, 3), task_id=task_id, queue="restart")
    if refused:
        with pytest.raises(TaskRevokedError):
            result.get(timeout=10)
    else:
        assert result.get(timeout=10) == 5


def test_a_worker_that_starts_beside_another_takes_its_revoked_ids(app, start_worker):
    from tasks import add

    task_id = uuid()
    # Both keep revoked ids in memory only: what the second knows, the first told it.
    elder = start_worker("elder", "-Q", "elder", CELERY_WORKER_STATE_DB="")
    app.control.revoke(task_id, destination=[f"elder@{HOST}"])
    elder.logged(f"Tasks flagged as revoked: {task_id}")
    start_worker("younger", "-Q", "younger", mingle=True, CELERY_WORKER_STATE_DB="")

    with pytest.raises(TaskRevokedError):
        add.apply_async((2, 3), task_id=task_id, queue="younger").get(timeout=10)


def test_sending_to_an_unreachable_broker_fails_within_seconds(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "pyamqp://guest@localhost:1//")
    client = Celery("tasks", set_as_current=False)
    client.config_from_object("celeryconfig")

    started = time.monotonic()
    with pytest.raises(OperationalError, match="Connection refused"):
        client.send_task("tasks.add", (2, 3))
    assert time.monotonic() - started < 10


def test_a_worker_waits_for_a_broker_that_is_down(tmp_path):
    worker = Process(
        [PYTHON, "-m", "celery", "-A", "tasks", "worker", "-n", f"waiting@{HOST}"],
        tmp_path / "waiting.log",
        CELERY_BROKER_URL="pyamqp://guest@localhost:1//",
    )
    try:
        worker.logged("Trying again in")
        assert re.search(
            r"consumer: Cannot connect to amqp://guest:\*\*@[\w.]+:1//", worker.output()
        )
        assert worker.popen.poll() is None  # waiting, not gone
    finally:
        worker.stop(signal.SIGKILL)
