"""A three-node RabbitMQ cluster (scripts/cluster.sh), its nodes killed for real (one at a
time, two in the two-nodes-down test): what the stock settings lose, and what
clusterconfig.py keeps (docs/cluster.md), with workers of the tests' own.
(test_cluster_make.py kills nodes of the cluster that `make cluster-up` starts, at the
same time.)"""

import shutil
import signal
import subprocess
import time
from pathlib import Path

import amqp
import celery
import pytest
from amqp.exceptions import ChannelError
from kombu.exceptions import OperationalError
from kombu.utils.uuid import uuid

from clusters import Cluster, answers
from conftest import RUN, port
from helpers import ROOT, Held, declare_queue, message_count, rabbitmq_version, wait_for

# A test's timeout counts its fixtures: the first test here also waits for the cluster to boot.
pytestmark = pytest.mark.timeout(150)

PORTS = [port(5781 + n) for n in range(3)]  # not a user's cluster's: 5681-5683
CLUSTER = {
    "CLUSTER": "native",  # docker-compose.cluster.yml has tests of its own
    "CLUSTER_DIR": str(RUN / "cluster"),
    "CLUSTER_PORTS": " ".join(map(str, PORTS)),
    "CLUSTER_MANAGEMENT": "off",  # no UI: each node boots and stops sooner
}


# What the rpc result consumer raises once it cannot reconnect.
RETRY_LIMIT = """Retry limit exceeded while trying to reconnect to the Celery result store
backend. The Celery application must be restarted."""


@pytest.fixture(scope="module")
def cluster():
    """The three nodes, booted together as one cluster (no worker: each test starts its own)."""
    nodes = Cluster(CLUSTER)
    nodes.run("start")
    yield nodes
    nodes.run("down")


def test_when_the_clients_node_dies_stock_settings_lose_answers_cluster_settings_keep_them(
    node, cluster_worker, client, tmp_path
):
    # The stock settings on a queue of their own: "celery" is a quorum queue on this
    # cluster, and a classic one of the same name cannot be declared (406 PRECONDITION_FAILED).
    stock_worker = cluster_worker("stock", 1, "-Q", "stock", settings="celeryconfig")
    quorum_worker = cluster_worker("quorum", 1)
    stock, quorum = client(2, settings="celeryconfig"), client(2)  # both on node 2
    # Each client reads its reply queue from now on; then each worker holds a task, so
    # that none of the others has answered when the node dies.
    assert stock.send_task("tasks.add", (0, 0), queue="stock").get(timeout=15) == 0
    assert quorum.send_task("tasks.add", (0, 0)).get(timeout=15) == 0
    held = [Held(tmp_path, "stock", stock), Held(tmp_path, "celery", quorum)]
    for each in held:
        each.started()
    lost = [stock.send_task("tasks.add", (n, n), queue="stock") for n in range(1, 6)]
    kept = [quorum.send_task("tasks.add", (n, n)) for n in range(1, 10)]

    version = rabbitmq_version(stock)
    node.kill(2)
    for each in held:
        each.release()

    # The stock reply queue is a classic queue, on node 2 only: the client cannot declare
    # it again on another node (404 NOT_FOUND), and gives up.
    began = time.monotonic()
    with pytest.raises(RuntimeError) as raised:
        lost[0].get(timeout=1)
    waited, why = time.monotonic() - began, str(raised.value.__cause__)
    assert str(raised.value).split() == RETRY_LIMIT.split()
    if version < (4,):  # 3.10: at once, the queue's home node is down
        assert "is down or inaccessible" in why and waited < 10, (version, waited, why)
    else:  # 4.0: the node waits a minute for the dead node's queue, whatever get()'s timeout
        assert "due to timeout" in why and waited > 50, (version, waited, why)
    assert set(answers(lost[1:], timeout=1)) == {"TimeoutError: The operation timed out."}
    # The worker ran every task: their answers went to a queue that was not there.
    stock_worker.logged(f"[{lost[-1].id}] succeeded")
    # The cluster's reply queue is a quorum queue: read again through another node.
    assert answers(kept) == [2 * n for n in range(1, 10)]

    # Celery sends a result before it logs the success: wait for the lines, then count.
    # (By id: a task an earlier test left in the queue may run here too.)
    ids = [held[1].result.id, *(result.id for result in kept)]

    def succeeded():
        out = quorum_worker.output()
        return [out.count(f"[{task_id}] succeeded") for task_id in ids]

    wait_for(lambda: all(succeeded()), 10, "the worker to log each success")
    assert succeeded() == [1] * len(ids)  # each once, the held one too


def test_a_task_whose_workers_node_dies_mid_run_runs_again_and_answers(
    node, cluster_worker, client, tmp_path
):
    worker = cluster_worker("midrun", 1)
    app = client(2)
    held = Held(tmp_path, "celery", app)
    held.started()

    node.kill(1)  # the worker's connection: its task cannot be acknowledged
    held.release()

    assert isinstance(held.result.get(timeout=30), int)
    # Its ack was lost with the connection, so the queue delivers it again, to the
    # worker's new connection, and it runs again (and answers again: nobody reads it).
    # Until it has, it would be delivered once more, to the next test's worker.
    rerun = f"[{held.result.id}] succeeded"
    wait_for(lambda: worker.output().count(rerun) == 2, 20, "a rerun")


def test_a_revoke_sent_while_the_worker_reconnects_is_lost_and_one_sent_after_holds(
    node, cluster_worker, client, tmp_path
):
    worker = cluster_worker("reconnecting", 1, ADD_SLEEP="0")
    app = client(2)
    held = Held(tmp_path, "celery", app)  # the worker's one process is busy: both wait
    held.started()
    early, late = (app.send_task("tasks.add", (n, n)) for n in (1, 2))

    worker.send(signal.SIGSTOP)  # so that it reconnects only once the revoke has gone
    node.kill(1)  # the worker's node, and with it the worker's control queue
    app.control.revoke(early.id)  # broadcast to the control queues there are: none of its
    worker.send(signal.SIGCONT)
    # Once it answers a ping, its control queue is back, on the node it is on now.
    wait_for(lambda: app.control.ping([worker.node], timeout=0.5), 20, "a ping answered")
    app.control.revoke(late.id)
    held.release()

    assert early.get(timeout=30) == 2  # the revoke never reached it: the task ran
    with pytest.raises(celery.exceptions.TaskRevokedError):
        late.get(timeout=30)


def test_tasks_queued_on_a_leader_that_dies_run_once_each_and_answer(node, cluster_worker, client):
    declare_queue(client(1), "celery")  # the task queue, a quorum one
    dead = node.leader("celery")
    sender, taker = (n for n in (1, 2, 3) if n != dead)  # neither on the node that dies
    app = client(sender)
    results = [app.send_task("tasks.add", (n, n)) for n in range(5)]

    node.kill(dead)  # no worker yet: every task is queued, none running
    node.led_again(asking=sender)
    worker = cluster_worker("new-leader", taker, ADD_SLEEP="0")

    assert answers(results) == [2 * n for n in range(5)]
    assert all(worker.output().count(f"[{r.id}] received") == 1 for r in results)


def test_a_node_killed_in_the_middle_of_300_tasks_loses_none_and_holds_answers_up_under_10_s(
    node, cluster_worker, client
):
    # The worst node to lose: the task queue's leader, with the worker and the client on it.
    declare_queue(client(1), "celery")
    dead = node.leader("celery")
    worker = cluster_worker("three-hundred", dead, ADD_SLEEP="0")
    app = client(dead)
    results = [app.send_task("tasks.add", (n, n)) for n in range(300)]  # each one confirmed
    assert answers(results[:100]) == [2 * n for n in range(100)]

    node.kill(dead)
    got, waits, last = [], [], time.monotonic()
    for result in results[100:]:
        got.append(result.get(timeout=30))
        waits.append(time.monotonic() - last)  # the first: from the kill
        last = time.monotonic()

    assert got == [2 * n for n in range(100, 300)]
    assert max(waits) < 10, f"an answer came {max(waits):.1f} s after the one before"
    # A task runs twice only if it was running when its worker's connection died: its
    # ack was lost. One process, one task prefetched: at most one such task.
    ran = [worker.output().count(f"[{r.id}] received") for r in results]
    assert ran.count(1) >= 299 and set(ran) <= {1, 2}, [ran.count(n) for n in (1, 2)]


def test_with_two_nodes_down_a_send_times_out_in_seconds_and_no_accepted_task_is_lost(
    node, cluster_worker, client
):
    declare_queue(client(1), "celery")
    leader = node.leader("celery")
    app = client(leader)  # on the one node that stays up
    accepted = [app.send_task("tasks.add", (n, n)) for n in range(3)]  # no worker yet

    for n in (1, 2, 3):
        if n != leader:
            node.kill(n)  # no majority: the queue can commit nothing
    timed_out = uuid()
    started = time.monotonic()
    # OperationalError: timed out; once, on a loaded machine, kombu's ChannelError: channel
    # is None and entity <unbound Queue celery ...> not bound.
    with pytest.raises((OperationalError, ChannelError), match=r"timed out|channel is None"):
        app.send_task("tasks.add", (5, 5), task_id=timed_out, retry=False, confirm_timeout=5)
    assert time.monotonic() - started < 8

    node.start_all()
    node.led_again(asking=leader)
    worker = cluster_worker("majority", leader, ADD_SLEEP="0")
    assert answers(accepted) == [0, 2, 4]
    # The one that timed out may run all the same, once the queue commits it (it did in
    # every run so far: the leader had it in its log), or not at all; never twice. The
    # queue is in order: once the next task has run, it has run or never will.
    sent = app.send_task("tasks.add", (7, 7))
    assert sent.get(timeout=15) == 14
    out = worker.logged(f"[{sent.id}] succeeded")
    assert [out.count(f"[{r.id}] succeeded") for r in accepted] == [1, 1, 1]
    assert out.count(f"[{timed_out}] succeeded") in (0, 1)


@pytest.mark.usefixtures("node")
def test_a_task_that_kills_its_worker_every_time_ends_in_the_dead_letter_queue(
    cluster_worker, client
):
    worker = cluster_worker("poison", 1, settings="lost_fast_config")
    app = client(2)
    crashed = app.send_task("extra_tasks.crash")

    # Each time, its pool process dies and the message goes back to the queue
    # (task_reject_on_worker_lost); after the 5th time back, the cluster's policy sends it
    # to celery.dead instead: delivered 6 times in all. (With a limit of 1, RabbitMQ 3.10
    # once dead-lettered it at its 1st time back, and once at its 2nd.)
    # (With the stock worker_lost_wait of 10 s, its worker took 5 s each time to give the
    # task up: lost_fast_config.py. Even so, the pool sometimes notices a dead process only
    # at its maintenance pass, every 5 s.)
    wait_for(lambda: message_count(app, "celery.dead") == 1, 60, "the task in celery.dead")
    assert worker.output().count(f"[{crashed.id}] received") == 6
    assert message_count(app, "celery") == 0
    with app.connection_for_write() as connection:
        message = connection.default_channel.basic_get("celery.dead", no_ack=True)
    assert (message.headers["task"], message.headers["id"]) == ("extra_tasks.crash", crashed.id)
    assert message.headers["x-first-death-reason"] == "delivery_limit"
    # No result comes for it; the worker goes on with the next task.
    with pytest.raises(celery.exceptions.TimeoutError):
        crashed.get(timeout=0.5)
    assert app.send_task("tasks.add", (2, 3)).get(timeout=15) == 5


@pytest.mark.usefixtures("node")
def test_a_quorum_queue_without_the_policy_drops_a_task_back_20_times_on_4_0_not_on_3_10(client):
    app = client(1)
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        version = connection.connection.server_properties["version"]
        queue = f"no-policy-{uuid()}"  # not ^celery$: no delivery limit of the cluster's
        quorum = {"x-queue-type": "quorum"}
        channel.queue_declare(queue, durable=True, auto_delete=False, arguments=quorum)
        try:
            channel.basic_publish(amqp.Message(b"a task"), "", queue)
            returned = 0  # times it went back to the queue, as a lost worker's task does
            while returned < 25 and (message := channel.basic_get(queue)):
                channel.basic_reject(message.delivery_tag, requeue=True)
                returned += 1
        finally:
            channel.queue_delete(queue)

    # RabbitMQ 4.0 gives a quorum queue a delivery limit of 20 by default: the 21st time
    # back, the message is dropped (dead-lettered, where a policy says where).
    assert (version[:2], returned) in (("3.", 25), ("4.", 21)), (version, returned)


def test_the_upstream_reply_queue_patch_applies_to_the_installed_celery(tmp_path):
    for module in ("backends/rpc.py", "app/defaults.py"):
        (tmp_path / "celery" / module).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(celery.__file__).parent / module, tmp_path / "celery" / module)
    patch = ROOT / "docs" / "upstream" / "rpc-quorum-reply-queue.patch"

    applied = subprocess.run(
        ["patch", "-p1", "--fuzz=0", "-d", tmp_path, "-i", patch], capture_output=True, text=True
    )

    assert applied.returncode == 0, applied.stdout + applied.stderr
    rpc = (tmp_path / "celery" / "backends" / "rpc.py").read_text()
    compile(rpc, "rpc.py", "exec")
    assert "result_queue_type" in rpc
