"""monitor.py as a user runs it: one line per task state change, as it happens."""

import os
import re
import signal
import subprocess
from collections import defaultdict

import pytest
from celery.exceptions import TaskRevokedError

from helpers import PYTHON, ROOT, Held, readme_block, wait_for

STATUS = re.compile(r"^Status: (\w+)\[([\w.]+)\] ([\w-]+) (\{.*\})$")  # state, name, id, info


def states_by_task(output):
    """{task id: [state, ...]} in the order the monitor printed them."""
    states = defaultdict(list)
    for line in output.splitlines():
        if match := STATUS.match(line):
            states[match[3]].append(match[1])
    return states


def test_monitor_prints_every_state_change(monitor, start_worker, tmp_path):
    start_worker("extras", "-Q", "extras")  # every test worker serves extra_tasks
    from extra_tasks import reject, retry_once
    from tasks import add

    ok = add.delay(2, 3)
    failed = add.delay("a", 1)
    assert ok.get(timeout=10) == 5
    assert isinstance(failed.get(propagate=False, timeout=10), TypeError)
    # Held, never released: the first runs until terminate reaches it, the second waits.
    held, waiting = (Held(tmp_path, "extras") for _ in range(2))
    running, queued = held.result, waiting.result
    held.started()
    queued.revoke()
    running.revoke(terminate=True)
    for result in (running, queued):
        with pytest.raises(TaskRevokedError):
            result.get(timeout=10)
    retried = retry_once.apply_async(queue="extras")
    assert retried.get(timeout=10) == "retried"
    rejected = reject.apply_async(queue="extras")

    expected = {
        ok: ["RECEIVED", "STARTED", "SUCCESS"],
        failed: ["RECEIVED", "STARTED", "FAILURE"],
        running: ["RECEIVED", "STARTED", "REVOKED"],
        # With prefetch 1 it waits in RabbitMQ, so the worker discards it on delivery.
        queued: ["REVOKED"],
        # A retry is a new message for the same task id, sent while the first
        # run reports; and a rejected task fails too. Their order may vary.
        retried: ["PENDING", "RECEIVED", "STARTED", "RETRY", "RECEIVED", "STARTED", "SUCCESS"],
        rejected: ["RECEIVED", "STARTED", "FAILURE", "REJECTED"],
    }
    wait_for(
        lambda: all(
            len(states_by_task(monitor.output())[r.id]) == len(s) + 1 for r, s in expected.items()
        ),
        what="every state change of every task",
    )
    states = states_by_task(monitor.output())
    for result in (ok, failed, running, queued):
        # task-sent comes from the client over its own connection, so PENDING
        # may arrive after the worker's first events: it is checked on its own.
        assert states[result.id].count("PENDING") == 1
        assert [s for s in states[result.id] if s != "PENDING"] == expected[result]
    for result in (retried, rejected):
        assert sorted(states[result.id]) == sorted(["PENDING", *expected[result]])

    assert monitor.stop(signal.SIGINT) == 0
    assert "Traceback" not in monitor.output()


def normalized(line, task_id):
    """A monitor line without what differs from run to run: the task id and runtime."""
    return re.sub(r"'runtime': [\d.]+", "'runtime': T", line.replace(task_id, "ID"))


@pytest.mark.parametrize(
    "monitor", [["make", "-s", "monitor"]], indirect=True, ids=["make monitor"]
)
def test_the_readme_shows_what_monitor_prints(monitor):
    from tasks import add

    shown = readme_block("### 6. Watch every state change").splitlines()
    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5
    wait_for(lambda: "SUCCESS" in states_by_task(monitor.output())[result.id])

    printed = [line for line in monitor.output().splitlines() if result.id in line]
    shown_id = STATUS.match(shown[0])[3]
    # In the README's order, the client's PENDING comes first. It may also come after
    # the worker's first lines, which then lack what only task-sent carries (exchange,
    # routing_key): each line printed is the README's line, or that line less those.
    in_order = {STATUS.match(line)[1]: normalized(line, shown_id) for line in shown}
    less = {state: re.sub(r"'exchange': '', 'routing_key': 'celery', ", "", line)
            for state, line in in_order.items()}  # fmt: skip
    assert sorted(STATUS.match(line)[1] for line in printed) == sorted(in_order)
    for line in printed:
        state = STATUS.match(line)[1]
        assert normalized(line, result.id) in (in_order[state], less[state]), line


@pytest.mark.parametrize(
    "url",
    [
        "pyamqp://guest:secret@localhost:1//",
        "pyamqp://a:secret@localhost:1//;pyamqp://b:secret@localhost:2//",
    ],
    ids=["one URL", "a list to fail over"],
)
def test_monitor_without_a_broker_says_so_in_one_line(url):
    result = subprocess.run(
        [PYTHON, "monitor.py"],
        cwd=ROOT,
        env={**os.environ, "CELERY_BROKER_URL": url},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("monitor: no connection to the broker at pyamqp://")
    assert len(result.stderr.splitlines()) == 1
    assert "secret" not in result.stderr
