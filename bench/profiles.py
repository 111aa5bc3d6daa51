"""The settings the benchmark compares, from the tutorial's to the fastest it finds."""

from typing import NamedTuple


class Profile(NamedTuple):
    """Celery settings (worker and client) and worker options, with why."""

    settings: dict
    options: tuple
    why: str


EVENTS_OFF = {"worker_send_task_events": False, "task_send_sent_event": False}
EARLY_ACK = {"task_acks_late": False, "worker_prefetch_multiplier": 64}

PROFILES = {
    "tutorial": Profile({}, ("--pool=prefork",), "celeryconfig.py as it is"),
    "early ack, prefetch 64": Profile(
        EARLY_ACK, ("--pool=prefork",), "take 64 tasks at a time, acknowledge them on receipt"
    ),
    "+ events off": Profile(
        {**EARLY_ACK, **EVENTS_OFF}, ("--pool=prefork",), "no monitor.py or Flower updates"
    ),
    "+ transient results": Profile(
        {**EARLY_ACK, **EVENTS_OFF, "result_persistent": False},
        ("--pool=prefork",),
        "results not written to disk by RabbitMQ",
    ),
    "+ threads pool": Profile(
        {**EARLY_ACK, **EVENTS_OFF, "result_persistent": False},
        ("--pool=threads",),
        "no hand-over to a child process for each task",
    ),
}
