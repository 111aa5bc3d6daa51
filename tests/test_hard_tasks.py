"""The lesson after the post's (docs/hard-tasks.md): its tasks on the worker that the
tutorial starts, as monitor.py shows them, and on the other pools. (Its REPL sessions
run with every chapter's, in test_readme.py and test_docker.py.)"""

import ast
import re
import shlex
import socket
import time
from datetime import datetime

import pytest
from celery.exceptions import TimeLimitExceeded

from conftest import RUN, WORKER
from helpers import ROOT, Held, Process, message_count, rabbitmq_version
from test_monitor import STATUS

CHAPTER = "docs/hard-tasks.md"


def test_the_chapter_shows_its_tasks_as_hard_tasks_py_defines_them():
    shown = re.findall(r"```python\n(.*?)```", (ROOT / CHAPTER).read_text(), re.S)
    source = (ROOT / "hard_tasks.py").read_text()
    assert len(shown) == 3
    assert all(code in source for code in shown)


def test_monitor_py_shows_each_retry_received_again_with_its_eta_2_s_after_the_last(monitor):
    from hard_tasks import flaky

    result = flaky.delay(2)
    assert result.get(timeout=15) == "answered after 2 retries"
    monitor.logged(f"Status: SUCCESS[hard_tasks.flaky] {result.id}")

    lines = (STATUS.match(line) for line in monitor.output().splitlines())
    mine = [(m[1], ast.literal_eval(m[4])) for m in lines if m and m[3] == result.id]
    assert [info["retries"] for state, info in mine if state == "RETRY"] == [1, 2]
    etas = {
        info["retries"]: info.get("eta")  # none: a retry at once, without a countdown
        for state, info in mine
        if state == "RECEIVED" and info["retries"]
    }
    assert sorted(etas) == [1, 2] and None not in etas.values(), etas
    # retry_backoff=1 without jitter: 2 s after the first retry ran (a moment after its ETA).
    waited = datetime.fromisoformat(etas[2]) - datetime.fromisoformat(etas[1])
    assert 2 <= waited.total_seconds() < 2.5, etas


def test_a_task_past_its_time_limit_loses_its_pool_process_and_runs_once(app, worker):
    from hard_tasks import stuck, tidy

    def pool():
        stats = app.control.inspect([WORKER], timeout=1, limit=1).stats()
        return stats[WORKER]["pool"]["processes"]

    before = pool()
    soft, hard = tidy.delay(10), stuck.delay(10)

    assert soft.get(timeout=10) == "stopped at the soft time limit, cleaned up"
    with pytest.raises(TimeLimitExceeded, match=r"TimeLimitExceeded\(1,\)"):
        hard.get(timeout=10)
    assert stuck.delay(0).get(timeout=10) == "finished"
    out = worker.logged(f"Hard time limit (1s) exceeded for hard_tasks.stuck[{hard.id}]")
    assert f"Soft time limit (1s) exceeded for hard_tasks.tidy[{soft.id}]" in out
    after = pool()
    assert len(after) == 1 and after != before  # a new process, in place of the killed one
    assert out.count(f"Task hard_tasks.stuck[{hard.id}] received") == 1


@pytest.mark.parametrize("pool", ["threads", "solo"])
def test_the_threads_and_solo_pools_ignore_time_limits_and_say_nothing(pool, start_worker):
    from hard_tasks import stuck, tidy

    worker = start_worker(f"limits-{pool}", "--pool", pool, "-Q", pool)
    started = time.monotonic()
    ran = [task.apply_async((1.5,), queue=pool) for task in (tidy, stuck)]

    assert [result.get(timeout=15) for result in ran] == ["finished", "finished"]
    assert time.monotonic() - started >= 3  # one after the other, 1.5 s each
    assert "time limit" not in worker.output().lower()


def test_on_3_10_a_countdown_task_is_held_by_its_worker_and_the_next_runs_meanwhile(
    app, start_worker, tmp_path
):
    from hard_tasks import pause

    assert rabbitmq_version(app)[:2] == (3, 10)  # the native node (4.0: test_docker.py)
    taker = start_worker("eta", "-Q", "eta")
    due = time.monotonic() + 1
    later = pause.apply_async((0,), countdown=1, queue="eta")
    busy = Held(tmp_path, "eta")  # sent after it, and run at once: a prefetch beyond one
    busy.started()
    idle = start_worker("idle", "-Q", "eta")

    scheduled = app.control.inspect([taker.node], timeout=1).scheduled()
    assert [task["request"]["id"] for task in scheduled[taker.node]] == [later.id]
    assert message_count(app, "eta") == 0  # nothing left in the queue for the idle worker
    # The claim is about time passing: nothing happens when the ETA is past, which is it.
    time.sleep(max(0, due - time.monotonic()) + 1)
    assert not later.ready()
    busy.release()
    assert later.get(timeout=10) == 0
    assert f"Task hard_tasks.pause[{later.id}] succeeded" in taker.output()
    assert later.id not in idle.output()


def test_a_queue_of_its_own_runs_a_countdown_task_on_time_beside_a_busy_worker(
    start_worker, tmp_path
):
    from hard_tasks import pause

    start_worker("busy", "-Q", "busy")
    busy = Held(tmp_path, "busy")
    busy.started()
    command = re.search(r"```console\n\$ (.*?)\n```", (ROOT / CHAPTER).read_text())[1]
    worker = Process(shlex.split(command), RUN / "later.log")
    try:
        worker.logged(f"later@{socket.gethostname()} ready.")
        sent = time.monotonic()
        later = pause.apply_async((0,), countdown=1, queue="later")
        assert later.get(timeout=10) == 0
        assert time.monotonic() - sent < 3  # at its ETA, not after the held task
        assert not busy.result.ready()
    finally:
        busy.release()
        worker.stop()
