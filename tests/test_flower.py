"""One Flower against the real broker and worker: its pages, REST API and login."""

import subprocess

import pytest
from celery.exceptions import TaskRevokedError

import flower_process as flower
from conftest import WORKER
from helpers import Held, readme_block, wait_for

pytestmark = pytest.mark.usefixtures("running_flower")


@pytest.fixture(scope="module")
def running_flower(worker, tmp_path_factory):
    """One Flower for this file's tests, which only read it and send it commands."""
    process = flower.start(tmp_path_factory.mktemp("flower") / "flower")
    yield process
    process.stop()


def test_flower_shows_the_worker_and_each_task_with_state_args_and_result():
    from tasks import add

    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5

    status, workers = flower.request("/api/workers?refresh=1")
    assert status == 200 and WORKER in workers
    info = flower.wait_for_state(result.id, "SUCCESS")
    assert (info["name"], info["args"], info["result"]) == ("tasks.add", "(2, 3)", "5")
    status, tasks = flower.request("/api/tasks")
    assert status == 200 and result.id in tasks
    status, page = flower.request("/tasks")
    assert status == 200
    assert "Task history" in page


@pytest.mark.parametrize("path", ["/", "/tasks", "/workers", "/api/tasks", "/api/workers"])
def test_flower_refuses_anyone_not_logged_in(path):
    assert flower.request(path, auth=None)[0] == 401
    assert flower.request(path, auth=(flower.USER, "wrong"))[0] == 401
    assert flower.request(path)[0] == 200


@pytest.mark.parametrize(
    "path", ["/api/task/revoke/{id}?terminate=true", "/api/worker/shutdown/{worker}"]
)
def test_flower_refuses_a_command_from_anyone_not_logged_in(path):
    from tasks import add

    result = add.delay(2, 3)
    command = path.format(id=result.id, worker=WORKER)

    assert flower.request(command, method="POST", auth=None)[0] == 401
    assert result.get(timeout=10) == 5  # not revoked, and the worker still runs
    assert add.delay(1, 1).get(timeout=10) == 2


def test_the_health_check_and_the_metrics_need_no_login():
    from tasks import add

    assert add.delay(2, 3).get(timeout=10) == 5
    assert flower.request("/healthcheck", auth=None) == (200, "OK")
    # It names the workers, and counts their tasks by name and event.
    labels = [f'worker="{WORKER}"', 'type="task-succeeded"', 'task="tasks.add"']

    def counted():
        status, metrics = flower.request("/metrics", auth=None)
        return status == 200 and any(
            line.startswith("flower_events_total{") and all(label in line for label in labels)
            for line in metrics.splitlines()
        )

    wait_for(counted, what="/metrics to count the task, with no login")


def test_the_api_terminates_a_running_task(held_worker, tmp_path):
    held = Held(tmp_path, "held")  # never released: runs until terminated
    result = held.result
    flower.wait_for_state(result.id, "STARTED")

    status, body = flower.request(f"/api/task/revoke/{result.id}?terminate=true", method="POST")

    assert status == 200 and body == {"message": f"Revoked '{result.id}'"}
    with pytest.raises(TaskRevokedError, match="terminated"):
        result.get(timeout=10)
    flower.wait_for_state(result.id, "REVOKED")


def test_flower_cannot_read_an_rpc_result():
    from tasks import add

    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5
    flower.wait_for_state(result.id, "SUCCESS")

    # Only the client that sent the task gets its rpc reply; Flower knows from events.
    assert flower.request(f"/api/task/result/{result.id}") == (
        200,
        {"task-id": result.id, "state": "PENDING"},
    )


def readme_commands():
    """[(command, expected output)] of the README's Flower API session."""
    lines = readme_block("**Its REST API**", "console").splitlines()
    return [(line[2:], out) for line, out in zip(lines[::2], lines[1::2], strict=True)]


def test_the_readme_curl_commands_work_as_shown(request, tmp_path):
    (list_workers, workers), (terminate, revoked) = readme_commands()

    def run(command, task_id=""):
        for shown, real in [
            ("flower:flower", f"{flower.USER}:{flower.PASSWORD}"),
            ("localhost:5555", f"127.0.0.1:{flower.PORT}"),
            ("<task id>", task_id),
        ]:
            command = command.replace(shown, real)
        return subprocess.run(["bash", "-c", command], capture_output=True, text=True).stdout

    wait_for(lambda: run(list_workers) == workers.replace("worker@myhost", WORKER) + "\n")
    request.getfixturevalue("held_worker")
    result = Held(tmp_path, "held").result  # never released: runs until terminated
    flower.wait_for_state(result.id, "STARTED")
    assert run(terminate, result.id) == revoked.replace("<task id>", result.id)
    with pytest.raises(TaskRevokedError, match="terminated"):
        result.get(timeout=10)
