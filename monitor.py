"""Print a line for every task state change, from any client and any worker.

Usage, in a second terminal at the repo root, with the stack up::

    $ python monitor.py
    Status: PENDING[tasks.add] 3f2c...  {'args': '(2, 3)', 'kwargs': '{}', ...}
    Status: RECEIVED[tasks.add] 3f2c... {'args': '(2, 3)', 'kwargs': '{}', ...}
    Status: STARTED[tasks.add] 3f2c...  {'args': '(2, 3)', 'kwargs': '{}', ...}
    Status: SUCCESS[tasks.add] 3f2c...  {'args': '(2, 3)', 'kwargs': '{}', 'result': '5', ...}

It needs no `-E` on the worker: celeryconfig.py turns task events on.
Ctrl-C ends it.
"""

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
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=0)  # no broker: say so now, don't retry
        receiver = app.events.Receiver(connection, handlers=handlers)
        # Ctrl-C asks the receiver to stop, as a worker's warm shutdown does: it ends
        # between two messages, within a second. A KeyboardInterrupt in the middle of
        # reading one would leave the connection out of step, and closing it would hang.
        signal.signal(signal.SIGINT, lambda *_: setattr(receiver, "should_stop", True))
        receiver.capture(limit=None, timeout=None, wakeup=True)


def without_passwords(url):
    """url as it may be printed: each URL in it (a;b is a list to fail over) without its
    password."""
    return ";".join(maybe_sanitize_url(one) for one in url.split(";"))


if __name__ == "__main__":
    app = Celery("monitor")
    app.config_from_object("celeryconfig")
    try:
        monitor(app)
    except KeyboardInterrupt:  # Ctrl-C before the receiver listens
        pass
    except (OperationalError, KeyError) as exc:  # KeyError: a URL of no known kind
        where = without_passwords(app.conf.broker_url)
        sys.exit(f"monitor: no connection to the broker at {where}: {exc}")
