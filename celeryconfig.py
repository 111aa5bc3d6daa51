"""Settings for the tutorial's Celery app: lowercase names, environment overrides.

Check its syntax with ``python -m celeryconfig``.
"""

import os

# The broker holds the task queue; the default is the post's local RabbitMQ.
broker_url = os.environ.get("CELERY_BROKER_URL", "pyamqp://guest@localhost//")

# Results travel back as AMQP messages to the client that sent the task.
result_backend = "rpc://"
# Result messages are persistent, so they outlive a broker restart.
result_persistent = True

# Workers send task events without `-E`, so monitor.py and Flower see every task.
worker_send_task_events = True
# Clients send task-sent, so a task shows up (as PENDING) the moment it is queued.
task_send_sent_event = True
# The worker reports STARTED, so a client and a monitor can tell running from queued.
task_track_started = True

# JSON only: a worker never unpickles a message it takes from the queue.
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_accept_content = ["json"]

# Keep Celery 5's retry of the first broker connection, and silence its
# warning that Celery 6 will need this spelled out.
broker_connection_retry_on_startup = True

# Everything in this module becomes a setting: keep the os module out of them
# (`celery inspect conf` and Flower's worker page would list it).
del os
