"""The benchmark's client: the tutorial's `add.delay(...)` and `.get()`, timed."""

import os
import time

from celery import Celery

from bench.cpu import cpu_seconds
from bench.worker import QUEUE


def client_app(settings):
    """A client like the tutorial's REPL with settings on top: an app of its own, so that
    its result backend (and rpc reply queue) is built from them."""
    app = Celery("tasks", set_as_current=False)
    app.config_from_object("celeryconfig")
    app.conf.update(settings)
    return app


def close(app):
    """Stop consuming app's reply queue, so that RabbitMQ deletes it now: a later app may
    get this one's id, and with it its reply queue's name. (Its other connections are
    kombu's, pooled for every app on the same broker: app.close() would close them all.)"""
    app.backend.result_consumer.stop()


def send_add(app, x, y):
    """`add.apply_async((x, y))` of tasks.py, from app, to the benchmark's queue."""
    return app.send_task("tasks.add", (x, y), queue=QUEUE)


def read_answers(results):
    """Every result's answer, checked: task n of a run computes n + 1."""
    answers = [result.get(timeout=120) for result in results]
    assert answers == [n + 1 for n in range(len(results))], "a task was lost or answered wrongly"


def round_trips(app, count):
    """Seconds for each of count `add.delay(2, 3).get()`, one after another."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        send_add(app, 2, 3).get(timeout=30)
        times.append(time.perf_counter() - started)
    return times


def cpu_used(workers, broker):
    """Seconds this process (the client), the workers and the broker have run on a CPU
    and waited for one, so far: {side: (ran, waited)}; the broker's None if unknown."""
    used = {"client": cpu_seconds(os.getpid()), "broker": broker and cpu_seconds(broker)}
    times = [worker.cpu_seconds() for worker in workers]
    used["worker"] = sum(ran for ran, _ in times), sum(waited for _, waited in times)
    return used


def in_cores(before, after, seconds):
    """What cpu_used() counted from before to after, per second of those seconds."""
    return {
        side: after[side]
        and tuple((a - b) / seconds for a, b in zip(after[side], before[side], strict=True))
        for side in after
    }


def throughput(app, count, workers, broker):
    """Tasks per second, first sent to last answer read, while the workers take them as
    they come; the workers' RSS under load; and in cores, how much each side ran on a
    CPU and waited for one: {side: (ran, waited)}."""
    before = cpu_used(workers, broker)
    started = time.perf_counter()
    results = [send_add(app, n, 1) for n in range(count)]
    busy_rss = sum(worker.rss_mb() for worker in workers)
    read_answers(results)
    elapsed = time.perf_counter() - started
    after = cpu_used(workers, broker)
    return count / elapsed, busy_rss, in_cores(before, after, elapsed)


def one_side_at_a_time(settings, count, workers):
    """Tasks per second a new client publishes while no worker takes any; tasks per second
    the workers then drain from the full queue, timed to the last answer in the client's
    reply queue (it reads none until then, to take no CPU from them); and answers per
    second the client then reads."""
    app = client_app(settings)
    nodes = [worker.node for worker in workers]
    app.control.cancel_consumer(QUEUE, destination=nodes, reply=True)
    started = time.perf_counter()
    results = [send_add(app, n, 1) for n in range(count)]
    published = time.perf_counter()
    app.control.add_consumer(QUEUE, destination=nodes, reply=True)
    # With task_track_started, a STARTED message precedes each answer.
    messages = count * (2 if app.conf.task_track_started else 1)
    with app.connection_for_write() as connection:
        replies = app.backend.binding(connection.default_channel)
        while replies.queue_declare(passive=True).message_count < messages:
            time.sleep(0.005)
    drained = time.perf_counter()
    read_answers(results)
    read = time.perf_counter()
    close(app)
    return count / (published - started), count / (drained - published), count / (read - drained)
