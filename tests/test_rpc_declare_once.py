"""The benchmark's rpc patch (bench/rpc_declare_once.py) still delivers every result it
should: after a broker restart, after its reply queue is deleted, after it expires; and
its upstream form (docs/upstream/) applies to the Celery installed here.

Each test runs a client app of its own, as bench/client.py builds them, beside stock
Celery's where the two differ, and says what became of each task's result.
"""

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from amqp.exceptions import NotFound
from celery.backends import rpc
from celery.exceptions import TimeoutError
from kombu import Connection

import bench.rpc_declare_once
from bench.client import client_app, close
from bench.profiles import DECLARE_ONCE
from conftest import SPARE_URL, rabbitmq
from helpers import ROOT, wait_for

QUEUE = "declare-once"
STOCK = {"result_backend": "rpc://"}


@pytest.fixture
def clients():
    """Make client apps: clients(settings); each is closed afterwards."""
    made = []

    def make(settings):
        made.append(client_app(settings))
        return made[-1]

    yield make
    for app in made:
        close(app)


@pytest.fixture
def declares(monkeypatch):
    """The broker connections on which the patch declared a reply queue, in order."""
    seen = []

    def spy(queue, **kwargs):
        declared = maybe_declare(queue, **kwargs)
        seen.append(queue.channel.connection)  # after a reconnect, the new connection
        return declared

    maybe_declare = bench.rpc_declare_once.maybe_declare
    monkeypatch.setattr(bench.rpc_declare_once, "maybe_declare", spy)
    return seen


def send(app, x):
    """`add.apply_async((x, 1))` to this file's worker."""
    return app.send_task("tasks.add", (x, 1), queue=QUEUE)


def exists(queue, url):
    """Whether queue exists, asked on a connection of its own (this renews an x-expires)."""
    with Connection(url) as connection:
        try:
            connection.default_channel.queue_declare(queue, passive=True)
        except NotFound:
            return False
    return True


def answer(result, timeout=10):
    """What get() gave: the answer, or the name of the exception."""
    try:
        return result.get(timeout=timeout)
    except TimeoutError:
        return "TimeoutError"


def test_a_client_declares_its_reply_queue_once_per_connection(clients, declares, start_worker):
    start_worker("once", "-Q", QUEUE, ADD_SLEEP="0")
    app = clients(DECLARE_ONCE)

    results = [send(app, n) for n in range(20)]

    assert [answer(r) for r in results] == [n + 1 for n in range(20)]
    assert len(declares) == 1


def test_after_a_broker_restart_the_first_task_declares_again(
    spare_broker, clients, declares, start_worker, monkeypatch
):
    monkeypatch.setenv("CELERY_BROKER_URL", SPARE_URL)  # Celery prefers it to broker_url
    worker = start_worker("restart", "-Q", QUEUE, ADD_SLEEP="0")
    app = clients(DECLARE_ONCE)
    assert answer(send(app, 1)) == 2

    spare_broker()
    # The worker is back before the client sends: it answers at once.
    wait_for(
        lambda: worker.output().count("Connected to amqp://") == 2,
        timeout=60,
        what="the worker to reconnect",
    )
    result = send(app, 2)

    # The broker deleted the reply queue with its consumer; the client found its
    # connection reset before sending, reconnected and declared the queue again.
    assert exists(app.backend.binding.name, SPARE_URL)
    assert answer(result) == 3
    assert len(declares) == 2 and declares[0] is not declares[1]


@pytest.mark.parametrize(
    ("settings", "answers"),
    [
        # Stock Celery declares the queue again with the next task: nothing is lost.
        (STOCK, [3, 4]),
        # Declared once, the queue is back only when the client next waits, and the
        # broker cancels its consumer: a result that came back before then is lost.
        (DECLARE_ONCE, ["TimeoutError", 4]),
    ],
    ids=["stock", "declared once"],
)
def test_a_deleted_reply_queue_comes_back_when_the_client_next_waits(
    settings, answers, broker, clients, start_worker
):
    worker = start_worker("deleted", "-Q", QUEUE, ADD_SLEEP="0")
    app = clients(settings)
    assert answer(send(app, 1)) == 2
    with Connection(broker) as connection:
        connection.default_channel.queue_delete(app.backend.binding.name)

    early = send(app, 2)
    worker.logged(f"[{early.id}] succeeded")
    got = [answer(early, timeout=1), answer(send(app, 3))]

    assert got == answers


def reply_queues(broker):
    """The names of the queues in broker's virtual host, asked without touching them."""
    vhost = Connection(broker).virtual_host
    return rabbitmq("ctl", "list_queues", "-p", vhost, "--no-table-headers", "name").split()


@pytest.mark.parametrize("settings", [STOCK, DECLARE_ONCE], ids=["stock", "declared once"])
def test_an_idle_threads_expired_reply_queue_is_declared_by_its_next_task(
    settings, broker, clients, start_worker
):
    worker = start_worker("expiry", "-Q", QUEUE, ADD_SLEEP="0")
    # result_expires is the reply queue's x-expires: unused for 1 s, RabbitMQ deletes it.
    app = clients({**settings, "result_expires": 1})
    # Two threads share the app: each has a reply queue of its own. This one waits for
    # its result, so its queue has a consumer and never expires; the other only sends.
    assert answer(send(app, 1)) == 2
    idle = ThreadPoolExecutor(1)
    first = idle.submit(send, app, 2).result()

    queue = first.backend.binding.name
    wait_for(
        lambda: queue not in reply_queues(broker), what="the idle thread's reply queue to expire"
    )
    second = idle.submit(send, app, 3).result()
    worker.logged(f"[{second.id}] succeeded")
    got = idle.submit(lambda: [answer(first, timeout=1), answer(second)]).result()
    idle.shutdown()
    first.backend.result_consumer.stop()  # the other thread's; close() stops this one's

    # The first answer expired with the queue, as result_expires says; the second
    # task's declare made a new queue, and its answer waited there.
    assert got == ["TimeoutError", 4]
    assert app.backend.binding.name in reply_queues(broker)
    assert answer(send(app, 4)) == 5


def test_the_upstream_patch_applies_to_the_installed_celery(tmp_path):
    assert shutil.which("patch"), "this test needs patch(1): apt-get install patch"
    copy = tmp_path / "celery" / "backends" / "rpc.py"
    copy.parent.mkdir(parents=True)
    shutil.copy(rpc.__file__, copy)

    patch = ROOT / "docs" / "upstream" / "rpc-declare-once.patch"
    applied = subprocess.run(
        ["patch", "-p1", "--fuzz=0", "-d", tmp_path, "-i", patch], capture_output=True, text=True
    )

    assert applied.returncode == 0, applied.stdout + applied.stderr
    compile(copy.read_text(), str(copy), "exec")
    assert "self._declare_reply_queue(producer.channel)" in copy.read_text()
