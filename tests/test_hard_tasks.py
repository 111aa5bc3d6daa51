"""The lesson after the post's (docs/hard-tasks.md): its tasks, on the worker that the
tutorial starts, as monitor.py shows them. (Its REPL sessions run with every chapter's,
in test_readme.py and test_docker.py.)"""

import ast
import re
import signal
from datetime import datetime

from conftest import RUN
from helpers import PYTHON, ROOT, Process, readme_block, wait_until_listening

CHAPTER = "docs/hard-tasks.md"
STATUS = re.compile(r"^Status: (\w+)\[hard_tasks\.\w+\] ([\w-]+) (\{.*\})$", re.M)


def test_the_chapter_shows_flaky_as_hard_tasks_py_defines_it():
    shown = readme_block("## A task that fails, then tries again", "python", CHAPTER)
    assert shown in (ROOT / "hard_tasks.py").read_text()


def test_monitor_py_shows_each_retry_received_again_with_its_eta_2_s_after_the_last(app, worker):
    from hard_tasks import flaky

    monitor = Process([PYTHON, "monitor.py"], RUN / "hard-tasks-monitor.log")
    try:
        wait_until_listening(monitor, app)
        result = flaky.delay(2)
        assert result.get(timeout=15) == "answered after 2 retries"
        monitor.logged(f"Status: SUCCESS[hard_tasks.flaky] {result.id}")
    finally:
        monitor.stop(signal.SIGKILL)

    output = monitor.output()
    mine = [(m[1], ast.literal_eval(m[3])) for m in STATUS.finditer(output) if m[2] == result.id]
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
