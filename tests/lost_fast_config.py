"""clusterconfig.py, with a worker that marks a task lost as soon as its process dies."""

from clusterconfig import *  # noqa: F403

# Celery waits this long (10 s) for a result that a dying pool process may have sent,
# and checks at most every 5 s: a task that kills its process is set aside sooner.
worker_lost_wait = 0.001
