"""Bad input: each gets a clear error, runs nothing it should not, and the worker goes on."""

import os
import pickle
import re
import subprocess

import pytest
from celery.exceptions import NotRegistered, TimeoutError
from kombu import Producer
from kombu.exceptions import EncodeError
from kombu.utils.uuid import uuid

from helpers import PYTHON, ROOT, declare_queue, message_count

pytestmark = pytest.mark.usefixtures("worker")


def publish(app, body, **options):
    """Publish a raw message to the worker's queue, as a broken client might."""
    with app.connection_for_write() as connection:
        Producer(connection).publish(body, routing_key="celery", **options)


def test_arguments_json_cannot_carry_fail_at_delay_and_nothing_is_sent(app):
    from tasks import add

    with pytest.raises(EncodeError, match="not JSON serializable"):
        add.apply_async((object(), 1), queue=declare_queue(app, "never-consumed"))

    assert message_count(app, "never-consumed") == 0


def test_an_unknown_task_name_is_logged_and_the_client_told(app, worker):
    from tasks import add

    result = app.send_task("tasks.no_such_task", (2, 3))

    with pytest.raises(NotRegistered, match=r"tasks\.no_such_task"):
        result.get(timeout=10)
    log = worker.logged("unregistered task")
    assert "Received unregistered task of type 'tasks.no_such_task'" in log
    assert add.delay(2, 2).get(timeout=10) == 4


def test_a_pickle_message_is_refused_and_nothing_runs(app, worker):
    from tasks import add

    task_id = uuid()
    publish(
        app,
        pickle.dumps(((2, 3), {}, {})),
        serializer=None,
        content_type="application/x-python-serialize",
        content_encoding="binary",
        headers={"lang": "py", "task": "tasks.add", "id": task_id},
    )

    worker.logged("Refusing to deserialize untrusted content of type pickle")
    assert task_id not in worker.output()
    assert add.delay(2, 2).get(timeout=10) == 4


def test_garbage_bytes_are_refused_and_the_worker_goes_on(app, worker):
    from tasks import add

    publish(
        app,
        b"\x80not json\xff",
        serializer=None,
        content_type="application/json",
        content_encoding="utf-8",
    )

    worker.logged("Can't decode message body")
    assert add.delay(2, 2).get(timeout=10) == 4


@pytest.mark.parametrize("url", ["rabbitmq://localhost//", "not-a-url"])
@pytest.mark.parametrize(
    "command",
    [["make", "-s", "--no-print-directory", target] for target in ("worker", "up", "monitor")],
)
def test_a_malformed_broker_url_gets_one_line(command, url):
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "CELERY_BROKER_URL": url},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode != 0
    first, *rest = result.stderr.splitlines()
    assert first == (
        f"celeryconfig: CELERY_BROKER_URL={url!r} is not a RabbitMQ URL; "
        "expected one like pyamqp://user:password@host:5672/vhost"
    )
    assert all(re.match(r"make(\[\d+\])?: \*\*\*", line) for line in rest)  # make's own last word


def test_a_malformed_list_of_broker_urls_shows_no_password():
    url = "rabbitmq://a:secret@one//;rabbitmq://b:secret@two//"
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "worker"],
        cwd=ROOT, env={**os.environ, "CELERY_BROKER_URL": url}, capture_output=True, text=True,
    )  # fmt: skip

    assert result.returncode != 0
    assert result.stderr.startswith("celeryconfig: CELERY_BROKER_URL='rabbitmq://a:**@one/")
    assert "secret" not in result.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "rabbitmq://localhost//",
            "monitor: no connection to the broker at rabbitmq://localhost//: "
            "'No such transport: rabbitmq.",
        ),
        (
            "not-a-url",
            "monitor: no connection to the broker at not-a-url: ",
        ),
    ],
)
def test_monitor_py_names_a_malformed_broker_url_in_one_line(url, says):
    result = subprocess.run(
        [PYTHON, "monitor.py"],
        cwd=ROOT,
        env={**os.environ, "CELERY_BROKER_URL": url},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert result.stderr.startswith(says)
    assert len(result.stderr.splitlines()) == 1


def test_a_get_that_no_worker_answers_times_out(app):
    from tasks import add

    result = add.apply_async((2, 3), queue="nobody-listens")

    with pytest.raises(TimeoutError, match="The operation timed out"):
        result.get(timeout=1)
    assert message_count(app, "nobody-listens") == 1  # it waits in the queue


BAD_ADD_SLEEP = {**os.environ, "ADD_SLEEP": "a minute"}
SAYS = "tasks: ADD_SLEEP must be seconds, not 'a minute'"


@pytest.mark.parametrize("target", ["worker", "up"])
def test_a_bad_add_sleep_stops_make_worker_and_make_up_in_one_line(target):
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", target],
        cwd=ROOT, env=BAD_ADD_SLEEP, capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert result.returncode != 0
    first, *rest = result.stderr.splitlines()
    assert first == SAYS
    assert all(re.match(r"make(\[\d+\])?: \*\*\*", line) for line in rest)  # make's own last word


def test_a_bare_celery_worker_with_a_bad_add_sleep_ends_with_the_same_line():
    result = subprocess.run(
        [PYTHON, "-m", "celery", "-A", "tasks", "worker"],
        cwd=ROOT, env=BAD_ADD_SLEEP, capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert result.returncode != 0
    assert "Unable to load celery application" in result.stderr  # Celery's own, with a traceback
    assert result.stderr.rstrip().endswith(SAYS)


def test_a_bad_add_sleep_is_an_error_the_repl_survives():
    typed = "import tasks\nprint('the REPL goes on')\n"

    repl = subprocess.run(
        [PYTHON, "-i", "-q"], input=typed,
        cwd=ROOT, env=BAD_ADD_SLEEP, capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert f"ValueError: {SAYS}\n" in repl.stderr
    assert repl.stdout == "the REPL goes on\n"


def test_make_passes_the_chart_path_without_running_it(tmp_path):
    chart = f"{tmp_path}/my chart $(touch {tmp_path}/ran).png"

    recipe = subprocess.run(
        ["make", "-n", "--no-print-directory", "bench", "QUICK=1", f"CHART={chart}"],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout  # fmt: skip

    assert '--chart "$CHART"' in recipe and chart not in recipe  # from the environment
    assert not (tmp_path / "ran").exists()


NO_SETTINGS = (
    "settings: CELERY_CONFIG_MODULE='nope' names no module at the repo root;"
    " expected celeryconfig (the tutorial's) or clusterconfig (docs/cluster.md)"
)


@pytest.mark.parametrize(
    "command, status, says",
    [
        (["make", "-s", "--no-print-directory", "worker"], 2, NO_SETTINGS),
        (["make", "-s", "--no-print-directory", "monitor"], 2, NO_SETTINGS),
        ([PYTHON, "monitor.py"], 1, "monitor: CELERY_CONFIG_MODULE='nope': No module named 'nope'"),
    ],
    ids=["make worker", "make monitor", "monitor.py"],
)
def test_a_missing_settings_module_gets_one_line(command, status, says):
    result = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "CELERY_CONFIG_MODULE": "nope"},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert result.returncode == status
    first, *rest = result.stderr.splitlines()
    assert first == says, result.stderr
    assert all(re.match(r"make(\[\d+\])?: \*\*\*", line) for line in rest), result.stderr


@pytest.mark.parametrize(
    "setting, says",
    [
        ("CLUSTER=kubernetes", "cluster: CLUSTER must be docker or native, not kubernetes"),
        ("CLUSTER_PORTS=5681", "cluster: CLUSTER_PORTS must be three ports, not 5681"),
        ("CLUSTER_MANAGEMENT=maybe", "cluster: CLUSTER_MANAGEMENT must be on or off, not maybe"),
        (
            "CLUSTER_DELIVERY_LIMIT=five",
            "cluster: CLUSTER_DELIVERY_LIMIT must be a whole number above 0, not five",
        ),
    ],
)
def test_a_bad_cluster_setting_stops_make_cluster_up_in_one_line(setting, says, tmp_path):
    name, value = setting.split("=")
    cluster = {"CLUSTER_DIR": str(tmp_path / "cluster"), "CLUSTER_PORTS": "5971 5972 5973"}
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "cluster-up"],
        cwd=ROOT, env={**os.environ, **cluster, name: value}, capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip

    assert result.returncode != 0
    first, *rest = result.stderr.splitlines()
    assert first == says
    assert all(re.match(r"make(\[\d+\])?: \*\*\*", line) for line in rest)
    assert not (tmp_path / "cluster").exists()  # nothing started


# docs/hard-tasks.md's flaky(), with one retry option of the wrong kind.
RETRYING = """from tasks import app

@app.task(bind=True, autoretry_for={retry_on}, max_retries={max_retries}, retry_backoff=1)
def fails(self):
    raise ConnectionError("the service is down")
"""


def retrying_module(where, name, retry_on="(ConnectionError,)", max_retries="2"):
    """Write a module of one task that always fails and retries, as option values say."""
    (where / f"{name}.py").write_text(RETRYING.format(retry_on=retry_on, max_retries=max_retries))
    return {"PYTHONPATH": f"{where}:{ROOT / 'tests'}"}


def test_a_max_retries_that_is_not_a_number_fails_the_task_at_its_first_retry(
    app, start_worker, tmp_path
):
    path = retrying_module(tmp_path, "text_max_retries", max_retries="'2'")
    worker = start_worker("text-max-retries", "-I", "text_max_retries", "-Q", "text", **path)

    result = app.send_task("text_max_retries.fails", queue="text")

    # Nothing said at import or at send time: the retry itself fails, with no retry.
    with pytest.raises(TypeError, match="'>' not supported between instances of 'int' and 'str'"):
        result.get(timeout=15)
    worker.logged(f"text_max_retries.fails[{result.id}] raised unexpected: TypeError(")
    assert f"text_max_retries.fails[{result.id}] retry" not in worker.output()


def test_an_autoretry_for_that_is_not_a_tuple_fails_delay_and_stops_the_worker(app, tmp_path):
    path = retrying_module(tmp_path, "one_class", retry_on="ConnectionError")
    env = {**os.environ, **path, "CELERY_WORKER_STATE_DB": str(tmp_path / "%n.state")}
    says = "TypeError: 'type' object is not iterable"
    declare_queue(app, "one-class")  # where a task sent would wait, to be counted

    send = [PYTHON, "-c", "import one_class; one_class.fails.apply_async(queue='one-class')"]
    sent = subprocess.run(send, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    worker = [PYTHON, "-m", "celery", "-A", "tasks", "worker", "-I", "one_class", "-n", "one@%h"]
    started = subprocess.run(worker, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)

    # The import passes; the task is made at its first use, and that raises: in the client
    # at delay(), nothing sent; in the worker at its start, with Celery's traceback.
    assert sent.returncode == 1 and sent.stderr.rstrip().endswith(says), sent.stderr
    assert message_count(app, "one-class") == 0
    assert started.returncode != 0 and started.stderr.rstrip().endswith(says), started.stderr
