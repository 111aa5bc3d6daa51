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

from celery import Celery

app = Celery("tasks")
# CELERY_CONFIG_MODULE=clusterconfig for the cluster (docs/cluster.md), as `celery --config`.
app.config_from_object(os.environ.get("CELERY_CONFIG_MODULE", "celeryconfig"))

try:
    ADD_SLEEP = float(os.environ.get("ADD_SLEEP", "60"))
except ValueError:
    raise ValueError(f"tasks: ADD_SLEEP must be seconds, not {os.environ['ADD_SLEEP']!r}") from None


@app.task
def add(x, y):
    """Return x + y after sleeping ADD_SLEEP seconds."""
    time.sleep(ADD_SLEEP)
    return x + y
