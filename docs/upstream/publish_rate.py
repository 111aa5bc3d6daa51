"""apply_async's rate, stock rpc backend beside the patch, in one run.

From the repo root: `PYTHONPATH=. .venv/bin/python docs/upstream/publish_rate.py`, with
CELERY_BROKER_URL naming a RabbitMQ (the stack's, unless set). No worker is needed: it
sends 3,000 tasks to a queue of its own, twice for each case, interleaved, empties the
queue after each, and deletes it at the end. The patched backend is
bench/rpc_declare_once.py, the same change as rpc-declare-once.patch.
"""

import time

from bench.client import client_app

COUNT, QUEUE = 3000, "publish-rate"
BACKENDS = {"stock": "rpc://", "declared once": "bench.rpc_declare_once:RPCBackend"}


def rate(events, backend):
    """Tasks per second that a new client sends, with task-sent events on or off."""
    app = client_app({"task_send_sent_event": events, "result_backend": backend})
    app.send_task("tasks.add", (0, 0), queue=QUEUE)  # connect and declare before timing
    started = time.perf_counter()
    for n in range(COUNT):
        app.send_task("tasks.add", (n, 1), queue=QUEUE)
    elapsed = time.perf_counter() - started
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(QUEUE)  # each case starts with it empty
        connection.default_channel.queue_delete(app.backend.binding.name)  # never consumed
    return COUNT / elapsed


def main():
    """Print each case's two rates."""
    for events in (True, False):
        rates = {name: [] for name in BACKENDS}
        for _ in range(2):
            for name, backend in BACKENDS.items():
                rates[name].append(rate(events, backend))
        for name, measured in rates.items():
            figures = ", ".join(f"{r:.0f}" for r in measured)
            print(f"task-sent events {'on ' if events else 'off'}  {name:13} {figures} tasks/s")
    with client_app({}).connection_for_write() as connection:
        connection.default_channel.queue_delete(QUEUE)


if __name__ == "__main__":
    main()
