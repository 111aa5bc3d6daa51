"""Print a line for every task state change, from any client and any worker.

Usage, in a second terminal at the repo root, with the stack up::

    $ python monitor.py
    Status: PENDING[tasks.add] 3f2c...  {'args': '(2, 3)', 'kwargs': '{}'}
    Status: RECEIVED[tasks.add] 3f2c... {'args': '(2, 3)', 'kwargs': '{}'}
    Status: STARTED[tasks.add] 3f2c...  {'args': '(2, 3)', 'kwargs': '{}'}
    Status: SUCCESS[tasks.add] 3f2c...  {'args': '(2, 3)', 'kwargs': '{}', 'result': '5', ...}

It needs no `-E` on the worker: celeryconfig.py turns task events on.
Ctrl-C ends it.
"""

import contextlib
import sys

from celery import Celery
from celery.events.state import TASK_EVENT_TO_STATE
from kombu.exceptions import OperationalError


def monitor(app):
    """Print each task event as the state it announces, until interrupted."""
    state = app.events.State()

    def announce(event):
        # Events reach us from clients and workers over separate connections,
        # so they may arrive out of order: print the state this event announces.
        state.event(event)
        task = state.tasks.get(event["uuid"])
        now = TASK_EVENT_TO_STATE[event["type"].removeprefix("task-")]
        print(f"Status: {now}[{task.name}] {task.uuid} {task.info()}", flush=True)

    handlers = {f"task-{kind}": announce for kind in TASK_EVENT_TO_STATE}
    try:
        connection = app.connection_for_read()
        connection.transport  # noqa: B018 (a broker URL of an unknown kind fails here)
    except KeyError as exc:
        sys.exit(f"monitor: CELERY_BROKER_URL is not a broker URL: {exc.args[0]}")
    with connection:
        try:
            connection.ensure_connection(max_retries=0)
            receiver = app.events.Receiver(connection, handlers=handlers)
            receiver.capture(limit=None, timeout=None, wakeup=True)
        except (OperationalError, *connection.connection_errors, *connection.channel_errors) as exc:
            sys.exit(f"monitor: no connection to the broker at {connection.as_uri()}: {exc}")


def main():
    """Monitor the broker that celeryconfig.py names."""
    app = Celery("monitor")
    app.config_from_object("celeryconfig")
    with contextlib.suppress(KeyboardInterrupt):
        monitor(app)


if __name__ == "__main__":
    main()
