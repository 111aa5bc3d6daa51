"""A real Flower process for the tests, and its REST API."""

import base64
import itertools
import json
import urllib.error
import urllib.request

from conftest import RUN, WORKER, port
from helpers import PYTHON, Process, wait_for

PORT = port(5556)
URL = f"http://127.0.0.1:{PORT}"
USER, PASSWORD = "tests", "flower-tests-password"
_starts = itertools.count(1)


def request(path, method="GET", auth=(USER, PASSWORD), url=None):
    """(HTTP status, body) of a request to Flower (the tests' own, unless url says which);
    body parsed when it is JSON."""
    req = urllib.request.Request((url or URL) + path, method=method)
    if auth:
        token = base64.b64encode(":".join(auth).encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def healthy():
    """True once Flower answers its health check."""
    try:
        return request("/healthcheck", auth=None)[0] == 200
    except OSError:
        return False


def start(db, *options, persistent=True, **env):
    """`celery -A tasks flower [options]` with its state in db, logged in with USER."""
    assert not healthy(), f"something already answers on port {PORT}"
    flags = ["--persistent=True"] if persistent else []
    command = ["celery", "-A", "tasks", "flower", f"--port={PORT}", f"--db={db}"]
    process = Process(
        [PYTHON, "-m", *command, *flags, *options],
        RUN / f"flower-{next(_starts)}.log",
        **{"FLOWER_BASIC_AUTH": f"{USER}:{PASSWORD}", **env},
    )
    try:
        wait_for(healthy, what="Flower's health check")
        # /healthcheck answers before Flower receives events: wait until it has heard
        # from the tests' worker (it asks every worker for a heartbeat when it starts).
        wait_for(lambda: WORKER in workers_heard_from(), what="Flower to receive events")
    except AssertionError:
        process.stop()
        raise
    return process


def workers_heard_from():
    """The workers that Flower knows from their events."""
    status, body = request("/workers?json=1")
    return {worker["hostname"] for worker in body["data"]} if status == 200 else set()


def task(task_id):
    """Flower's record of a task, once it has one."""
    status, body = request(f"/api/task/info/{task_id}")
    return body if status == 200 else None


def wait_for_state(task_id, state):
    """Flower's record of a task, once it shows the task in state."""
    return wait_for(
        lambda: (info := task(task_id)) and info["state"] == state and info,
        what=f"Flower to show {task_id} as {state}",
    )
