"""The post's REPL steps against a live worker: results, failures, revoking."""

import re
import subprocess

import pytest
from celery.exceptions import TaskRevokedError

from conftest import WORKER
from helpers import PYTHON, ROOT, Held, declare_queue, fresh_copy, message_count

pytestmark = pytest.mark.usefixtures("worker")


def test_make_worker_runs_the_post_command_without_a_deprecation_warning(worker):
    # The fixture waits for a ping, which the worker can answer before it logs "ready.".
    log = worker.logged(f"{WORKER} ready.")
    assert "celery -A tasks worker --loglevel=info --concurrency=1\n" in log
    assert "task events: ON" in log  # from celeryconfig.py, with no -E
    assert "Deprecation" not in log


def test_add_returns_the_sum_and_the_worker_logs_it(worker):
    from tasks import add

    result = add.delay(2, 3)

    assert result.get(timeout=10) == 5
    # Celery sends the result before it logs the success: wait for this task's line.
    succeeded = f"Task tasks.add[{result.id}] succeeded in "
    log = worker.logged(succeeded)
    assert f"Task tasks.add[{result.id}] received" in log
    assert re.search(re.escape(succeeded) + r"[\d.]+s: 5\n", log)


def test_a_wrong_argument_type_fails_in_the_worker_which_goes_on():
    from tasks import add

    result = add.delay("a", 1)

    with pytest.raises(TypeError, match="can only concatenate str"):
        result.get(timeout=10)
    assert isinstance(result.get(propagate=False), TypeError)
    assert result.state == "FAILURE"
    assert add.delay(1, 1).get(timeout=10) == 2


def test_a_wrong_argument_count_is_refused_and_nothing_is_sent(app):
    from tasks import add

    with pytest.raises(TypeError, match="missing 1 required positional argument: 'y'"):
        # What add.delay(1) does, on a queue of its own.
        add.apply_async((1,), queue=declare_queue(app, "never-consumed"))

    assert message_count(app, "never-consumed") == 0


def test_a_wrong_argument_count_sent_by_name_fails_in_the_worker(app):
    from tasks import add

    result = app.send_task("tasks.add", args=[1])

    with pytest.raises(TypeError, match="missing 1 required positional argument: 'y'"):
        result.get(timeout=10)
    assert add.delay(2, 2).get(timeout=10) == 4


def test_revoke_stops_a_queued_task_and_terminate_a_running_one(start_worker, tmp_path):
    worker = start_worker("terminate", "-Q", "terminate")
    a = Held(tmp_path, "terminate")  # never released: only terminate ends it
    b = Held(tmp_path, "terminate")  # queued behind a (one pool process)
    a.started()
    b.result.revoke()
    a.result.revoke(terminate=True)

    with pytest.raises(TaskRevokedError, match="terminated"):
        a.result.get(timeout=10)
    with pytest.raises(TaskRevokedError, match="revoked"):
        b.result.get(timeout=10)
    log = worker.logged(f"Discarding revoked task: extra_tasks.hold[{b.result.id}]")
    assert f"Terminating {a.result.id}" in log
    assert not b.started_file.exists(), "b never ran"


def test_app_control_revoke_revokes_by_id(app, worker):
    from tasks import add

    a = add.delay(2, 3)
    b = add.delay(2, 3)
    app.control.revoke(b.id)

    assert a.get(timeout=10) == 5
    with pytest.raises(TaskRevokedError, match="revoked"):
        b.get(timeout=10)
    log = worker.output()
    assert f"[{b.id}] succeeded" not in log
    # Harmless under rpc: see "What surprises people" in the README.
    assert f"Failed to mark task {b.id} as revoked in backend" in log


def test_revoke_without_terminate_lets_a_running_task_finish(start_worker, tmp_path):
    patient = start_worker("patient", "-Q", "patient")
    held = Held(tmp_path, "patient")
    held.started()  # and running until released, revoked meanwhile
    held.result.revoke()
    patient.logged(f"Tasks flagged as revoked: {held.result.id}")
    held.release()

    assert held.result.get(timeout=10)
    patient.logged(f"Task extra_tasks.hold[{held.result.id}] succeeded")


def test_revoked_tasks_stay_pending_in_the_client_until_a_get_reads_their_replies(
    app, held_worker, tmp_path
):
    running, a, b = (Held(tmp_path, "held") for _ in range(3))  # a and b wait behind it
    running.started()
    b.result.revoke()
    a.result.revoke(terminate=True)  # not running yet: revoked as b is
    running.release()
    assert running.result.get(timeout=10)  # this client's reply consumer now runs
    # The worker discards a and b, sending each its REVOKED reply, before it takes the
    # next task: once that one runs, both replies are out.
    after = Held(tmp_path, "held")
    after.started()
    after.release()
    # (One run's log lacked a discard at this point: wait for each, and fail with its id.)
    for held in (a, b):
        held_worker.logged(f"Discarding revoked task: extra_tasks.hold[{held.result.id}]", 10)

    # The replies have left the reply queue for this client's consumer, but only a
    # get() reads what that consumer has received: state asks the (empty) queue.
    assert message_count(app, app.backend.binding.name) == 0
    assert (a.result.state, b.result.state) == ("PENDING", "PENDING")
    with pytest.raises(TaskRevokedError, match="revoked"):
        a.result.get(timeout=10)
    assert a.result.state == "REVOKED"


def test_an_rpc_result_state_waits_for_the_client_to_read_its_replies(worker):
    from tasks import add

    assert add.delay(1, 1).get(timeout=10) == 2  # the client now consumes its replies
    result = add.delay(2, 3)
    worker.logged(f"[{result.id}] succeeded")

    assert result.ready() is False
    assert result.get(timeout=10) == 5
    assert result.ready() is True


def test_an_rpc_result_reaches_only_the_client_that_sent_the_task():
    from tasks import add

    sent = add.delay(2, 3)
    other_client = subprocess.run(
        [PYTHON, "-c", f"from tasks import app; app.AsyncResult({sent.id!r}).get(timeout=3)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert "TimeoutError" in other_client.stderr
    assert sent.get(timeout=10) == 5


def test_importing_the_lesson_files_writes_nothing(tmp_path):
    copy = fresh_copy(tmp_path / "copy")
    before = sorted(copy.rglob("*"))

    subprocess.run(
        [PYTHON, "-B", "-c", "import tasks, celeryconfig, monitor"], cwd=copy, check=True
    )

    assert sorted(copy.rglob("*")) == before


def test_the_posts_setting_names_still_work(tmp_path):
    (tmp_path / "oldconfig.py").write_text(
        "CELERY_RESULT_BACKEND = 'rpc://'\nCELERY_RESULT_PERSISTENT = True\n"
    )
    read = (
        "from celery import Celery; app = Celery('tasks'); app.config_from_object('oldconfig');"
        "print(app.conf.result_backend, app.conf.result_persistent)"
    )

    result = subprocess.run(
        [PYTHON, "-W", "error", "-c", read], cwd=tmp_path, capture_output=True, text=True
    )

    assert result.stdout == "rpc:// True\n", result.stderr
