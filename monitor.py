"""Print a line for every task state change, from any client and any worker.

Usage, in a second terminal at the repo root, with the stack up::

    $ python monitor.py
    Status: PENDING[tasks.add] 3f2c...  {'args': '(2, 3)', 'kwargs': '{}', ...}
    Status: RECEIVED[tasks.add] 3f2c... {'args': '(2, 3)', 'kwargs': '{}', ...}
    Status: STARTED[tasks.add] 3f2c...  {'args': '(2, 3)', 'kwargs': '{}', ...}
    Status: SUCCESS[tasks.add] 3f2c...  {'args': '(2, 3)', 'kwargs': '{}', 'result': '5', ...}

It needs no `-E` on the worker: celeryconfig.py turns task events on. A lost
connection is opened again (to another node of a cluster). Ctrl-C ends it.
"""

import os
import signal
import sys

from celery import Celery
from celery.events.state import TASK_EVENT_TO_STATE
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url


def monitor(app):
    """Print each task event as the state it announces, until interrupted."""
    state = app.events.State()

    def announce(event):
        # Events come from clients and workers over separate connections, so they
        # may arrive out of order: print the state this event announces.
        state.event(event)
        task = state.tasks.get(event["uuid"])
        now = TASK_EVENT_TO_STATE[event["type"].removeprefix("task-")]
        print(f"Status: {now}[{task.name}] {task.uuid} {task.info()}", flush=True)

    handlers = {f"task-{kind}": announce for kind in TASK_EVENT_TO_STATE}
    stopping = False

    def stop(*_):
        # Ctrl-C asks the receiver to stop, as a worker's warm shutdown does: it ends
        # between two messages, within a second. A KeyboardInterrupt in the middle of
        # reading one would leave the connection out of step, and closing it would hang.
        nonlocal stopping
        stopping = receiver.should_stop = True

    first = True
    while not stopping:
        with app.connection_for_read() as connection:
            # No broker at first: say so now. Later, one node of a cluster lost: the
            # connection tries the next URL of broker_url, and every one again until
            # one answers (the events sent meanwhile are not seen).
            signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C: at once
            connection.ensure_connection(max_retries=0 if first else None)
            receiver = app.events.Receiver(connection, handlers=handlers)
            signal.signal(signal.SIGINT, stop)
            if not first:
                print(f"monitor: connected again, to {connection.as_uri()}", file=sys.stderr)
            first = False
            try:
                receiver.capture(limit=None, timeout=None, wakeup=True)
            except connection.recoverable_connection_errors as lost:
                print(f"monitor: lost the broker ({lost!r}); connecting again", file=sys.stderr)


def without_passwords(url):
    """url as it may be printed: each URL in it (a;b is a list to fail over) without its
    password."""
    return ";".join(maybe_sanitize_url(one) for one in url.split(";"))


if __name__ == "__main__":
    app = Celery("monitor")
    config = os.environ.get("CELERY_CONFIG_MODULE", "celeryconfig")  # as tasks.py
    try:
        app.config_from_object(config, force=True)  # now: a missing module is said in one line
    except ImportError as exc:
        sys.exit(f"monitor: CELERY_CONFIG_MODULE={config!r}: {exc}")
    try:
        monitor(app)
    except KeyboardInterrupt:  # Ctrl-C while it connects
        pass
    except (OperationalError, KeyError) as exc:  # KeyError: a URL of no known kind
        where = without_passwords(app.conf.broker_url)
        sys.exit(f"monitor: no connection to the broker at {where}: {exc}")
