"""The tutorial's Celery app: one task, ``add(x, y)``, slow on purpose.

Usage, in one terminal at the repo root::

    $ celery -A tasks worker --loglevel=info --concurrency=1

and in another, in a Python REPL at the repo root::

    >>> from tasks import add
    >>> result = add.delay(2, 3)
    >>> result.ready()
    False
    >>> result.get()
    5

``add`` sleeps ``ADD_SLEEP`` seconds (60 unless the environment says
otherwise), so there is time to watch it run, or to revoke it.
"""

import os
import time

from celery import Celery, Task, result
from celery.exceptions import TimeoutError


class AsyncResult(result.AsyncResult):
    """Celery's AsyncResult, but get() says what to check when no answer comes in time."""

    def get(self, timeout=None, *args, **kwargs):
        try:
            return super().get(timeout, *args, **kwargs)
        except TimeoutError as exc:
            raise TimeoutError(
                f"no answer for task {self.id} within {timeout} s: is a worker running "
                "(make status), or busy with other tasks (make logs)?"
            ) from exc


class ResultTask(Task):
    """A task whose delay() and apply_async() return the AsyncResult above."""

    def AsyncResult(self, task_id, **kwargs):
        return AsyncResult(
            task_id, backend=self.backend, task_name=self.name, app=self.app, **kwargs
        )


app = Celery("tasks", task_cls=ResultTask)
app.config_from_object("celeryconfig")

try:
    ADD_SLEEP = float(os.environ.get("ADD_SLEEP", "60"))
except ValueError:
    raise SystemExit(f"tasks: ADD_SLEEP must be seconds, not {os.environ['ADD_SLEEP']!r}") from None


@app.task
def add(x, y):
    """Return x + y after sleeping ADD_SLEEP seconds."""
    time.sleep(ADD_SLEEP)
    return x + y
