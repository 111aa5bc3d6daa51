"""Flower against the real broker and worker: pages, REST API, login, persistence."""

import signal
import subprocess
import time
from pathlib import Path

import pytest
from celery.exceptions import TaskRevokedError

import flower_process as flower
from conftest import WORKER, port
from helpers import ROOT, Process, fresh_copy, readme_block, wait_for

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def db(tmp_path):
    """Where Flower keeps its state between runs."""
    return tmp_path / "flower"


@pytest.fixture
def start_flower():
    """Start Flower processes: start_flower(db, **options); each is stopped afterwards."""
    started = []

    def start(db, *options, **settings):
        started.append(flower.start(db, *options, **settings))
        return started[-1]

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def running_flower(start_flower, db):
    """A Flower process, stopped after the test."""
    return start_flower(db)


def last_saved(db):
    """When Flower last wrote its state file, or 0."""
    saved = Path(db).parent.glob(f"{Path(db).name}*")
    # Not the .tmp files of a save in progress: only what a finished save moved in place.
    return max((p.stat().st_mtime for p in saved if ".tmp" not in p.name), default=0)


@pytest.mark.usefixtures("running_flower")
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


@pytest.mark.usefixtures("running_flower")
@pytest.mark.parametrize("path", ["/", "/tasks", "/workers", "/api/tasks", "/api/workers"])
def test_flower_refuses_anyone_not_logged_in(path):
    assert flower.request(path, auth=None)[0] == 401
    assert flower.request(path, auth=(flower.USER, "wrong"))[0] == 401
    assert flower.request(path)[0] == 200


def test_a_flower_without_a_login_refuses_its_api(start_flower, db, tmp_path):
    no_settings = tmp_path / "empty.py"  # the post's Flower: no flowerconfig.py, no login
    no_settings.write_text("")
    start_flower(
        db, f"--conf={no_settings}", "--address=127.0.0.1", persistent=False, FLOWER_BASIC_AUTH=None
    )

    status, body = flower.request("/api/workers", auth=None)

    assert status == 401
    assert "FLOWER_UNAUTHENTICATED_API environment variable is required" in body


@pytest.mark.usefixtures("running_flower")
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


@pytest.mark.usefixtures("running_flower")
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


@pytest.mark.usefixtures("running_flower")
def test_the_api_terminates_a_running_task(slow_worker):
    from tasks import add

    result = add.apply_async((2, 3), queue="slow")
    flower.wait_for_state(result.id, "STARTED")

    status, body = flower.request(f"/api/task/revoke/{result.id}?terminate=true", method="POST")

    assert status == 200 and body == {"message": f"Revoked '{result.id}'"}
    with pytest.raises(TaskRevokedError, match="terminated"):
        result.get(timeout=10)
    flower.wait_for_state(result.id, "REVOKED")


@pytest.mark.usefixtures("running_flower")
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


@pytest.mark.parametrize(
    "persistent",
    [{}, {"FLOWER_PERSISTENT": "True"}],  # the stack's --persistent=True, and the post's way
    ids=["flag", "environment"],
)
def test_flower_keeps_its_tasks_across_a_clean_restart(start_flower, db, persistent):
    from tasks import add

    first = start_flower(db, persistent=not persistent, **persistent)
    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5
    flower.wait_for_state(result.id, "SUCCESS")
    assert first.stop(signal.SIGTERM) == 0

    start_flower(db, persistent=not persistent, **persistent)
    assert flower.task(result.id)["state"] == "SUCCESS"


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("interval_ms", "kept"),
    [(None, True), ("600000", False)],
    ids=["flowerconfig.py's 5 s", "no save before the kill"],
)
def test_a_killed_flower_keeps_what_it_saved_before_the_kill(start_flower, db, interval_ms, kept):
    from tasks import add

    first = start_flower(db, **({"FLOWER_STATE_SAVE_INTERVAL": interval_ms} if interval_ms else {}))
    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5
    wait_for(lambda: flower.task(result.id))
    seen = time.time()
    if kept:
        # A save that ended after `seen` may have begun before it: wait for the next one.
        saved_at = wait_for(lambda: (saved := last_saved(db)) > seen and saved, what="a save")
        wait_for(lambda: last_saved(db) > saved_at, what="the save after it")
    first.stop(signal.SIGKILL)

    start_flower(db)
    assert (flower.task(result.id) is not None) is kept


def test_a_flower_whose_saved_state_is_unreadable_starts_empty(start_flower, db):
    from tasks import add

    first = start_flower(db)
    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5
    flower.wait_for_state(result.id, "SUCCESS")
    assert first.stop(signal.SIGTERM) == 0  # a clean stop: saved
    saved = list(db.parent.glob(f"{db.name}*"))
    for path in saved:  # what a kill between two of a save's moves can leave
        path.write_bytes(b"\x00" * 64)

    second = start_flower(db)

    assert flower.task(result.id) is None
    assert "Failed to load state" in second.output()
    assert "moving it aside and starting fresh" in second.output()
    assert all(path.with_name(path.name + ".corrupt").exists() for path in saved)


def readme_commands():
    """[(command, expected output)] of the README's Flower API session."""
    lines = readme_block("**Its REST API**", "console").splitlines()
    return [(line[2:], out) for line, out in zip(lines[::2], lines[1::2], strict=True)]


@pytest.mark.usefixtures("running_flower")
def test_the_readme_curl_commands_work_as_shown(request):
    from tasks import add

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
    request.getfixturevalue("slow_worker")
    result = add.apply_async((2, 3), queue="slow")
    flower.wait_for_state(result.id, "STARTED")
    assert run(terminate, result.id) == revoked.replace("<task id>", result.id)
    with pytest.raises(TaskRevokedError, match="terminated"):
        result.get(timeout=10)


def test_make_flower_runs_the_posts_persistent_flower(tmp_path):
    copy = fresh_copy(tmp_path / "copy")
    (copy / ".venv").symlink_to(ROOT / ".venv")
    flower_port = port(5559)
    process = Process(
        ["make", "-s", "-C", str(copy), "flower"],
        tmp_path / "make-flower.log",
        FLOWER_PORT=str(flower_port),  # the README's way beside the stack's Flower
        FLOWER_PERSISTENT="True",  # the post's way
    )
    try:
        url = f"http://127.0.0.1:{flower_port}"
        local = ("flower", "flower")  # flowerconfig.py's local default

        def answers():
            try:
                return flower.request("/api/workers", url=url, auth=local)[0] == 200
            except OSError:  # not listening yet
                return False

        wait_for(answers, timeout=30, what="make flower to answer")
        assert flower.request("/api/workers", url=url, auth=None)[0] == 401
    finally:
        process.stop(signal.SIGTERM)
    # The post's default place for its state: files named flower* where it runs.
    assert [p for p in copy.glob("flower*") if p.name != "flowerconfig.py"]
