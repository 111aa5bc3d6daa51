"""Settings for the tutorial's Celery app: lowercase names, environment overrides.

``python -m celeryconfig`` checks their syntax; ``scripts/settings-check.py`` checks
what the environment sets (`make up` and `make worker` run it first).
"""

import os

# The broker holds the task queue; the default is the post's local RabbitMQ.
# (Celery itself would take CELERY_BROKER_URL over broker_url; read here, it shows.)
broker_url = os.environ.get("CELERY_BROKER_URL", "pyamqp://guest@localhost//")

# Results travel back as AMQP messages to the client that sent the task.
result_backend = "rpc://"
# Result messages are persistent: one its client has not read yet outlives a
# broker restart (the reply queue is durable). CELERY_RESULT_PERSISTENT=false to compare.
result_persistent = os.environ.get("CELERY_RESULT_PERSISTENT", "true").lower() == "true"

# The worker runs the next lesson's tasks too (docs/hard-tasks.md): one worker, every lesson.
imports = ("hard_tasks",)

# Workers send task events without `-E`, so monitor.py and Flower see every task.
worker_send_task_events = True
# Clients send task-sent, so a task shows up (as PENDING) the moment it is queued.
task_send_sent_event = True
# The worker reports STARTED, so a client and a monitor can tell running from queued.
task_track_started = True

# A task is acknowledged when it ends, not when it starts: if its worker dies
# in the middle, RabbitMQ delivers it again and it runs again.
task_acks_late = True
# The same when only the pool process that runs the task dies (SIGKILL, OOM).
task_reject_on_worker_lost = True
# When the broker connection drops, RabbitMQ delivers the running task again.
# Celery 6 will cancel the first run, and the client would then get REVOKED for a
# task that runs again right after: let it finish instead (Celery 5's way; the
# worker logs a CPendingDeprecationWarning about it on each connection loss).
worker_cancel_long_running_tasks_on_connection_loss = False
# A worker takes one task at a time, so the rest wait in the queue for any worker.
worker_prefetch_multiplier = 1
# Revoked task ids are kept on disk, in a file named after the worker (%n) in the
# directory it starts in: a worker that stops cleanly and starts again still
# refuses them. An empty value keeps them in memory only.
worker_state_db = os.environ.get("CELERY_WORKER_STATE_DB", "%n.state")

# Messages are JSON, and a worker refuses pickle: Celery's defaults since 4.0
# (task_serializer, result_serializer and accept_content), so nothing is set here.

# Keep Celery 5's retry of the first broker connection, and silence its
# warning that Celery 6 will need this spelled out.
broker_connection_retry_on_startup = True

# Everything in this module becomes a setting: keep the os module out of them
# (`celery inspect conf` and Flower's worker page would list it).
del os
