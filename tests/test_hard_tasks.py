"""The lesson after the post's (docs/hard-tasks.md): its tasks on the worker that the
tutorial starts, as monitor.py shows them, and on the other pools. (Its REPL sessions
run with every chapter's, in test_readme.py and test_docker.py.)"""

import ast
import re
import time
from datetime import datetime

import pytest
from celery.exceptions import TimeLimitExceeded

from conftest import WORKER
from helpers import ROOT
from test_monitor import STATUS

CHAPTER = "docs/hard-tasks.md"


def test_the_chapter_shows_its_tasks_as_hard_tasks_py_defines_them():
    shown = re.findall(r"```python\n(.*?)```", (ROOT / CHAPTER).read_text(), re.S)
    source = (ROOT / "hard_tasks.py").read_text()
    assert len(shown) == 2
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
