"""The settings the benchmark compares, from the tutorial's to the fastest it finds."""

from typing import NamedTuple

from bench import cluster


class Profile(NamedTuple):
    """Celery settings (worker and client) and worker options, with why and at what price."""

    settings: dict
    options: tuple
    why: str
    price: str


EVENTS_OFF = {"worker_send_task_events": False, "task_send_sent_event": False}
EARLY_ACK = {"task_acks_late": False, "worker_prefetch_multiplier": 64}
# The worker takes 64 tasks at a time but still acknowledges each when it ends.
PREFETCH = {"worker_prefetch_multiplier": 64}
# bench/rpc_declare_once.py: a patch of Celery's rpc backend, for the benchmark only.
DECLARE_ONCE = {"result_backend": "bench.rpc_declare_once:RPCBackend"}
TRANSIENT = {"result_persistent": False}
# Without it, each task sends its client one message (its answer) instead of two.
NO_STARTED = {"task_track_started": False}

NO_EVENTS = "monitor.py and Flower see no task"
HELD = "one worker holds 64 queued tasks that another worker cannot take"
LOST_ON_CRASH = "a task whose worker dies mid-run is lost, not run again"
LOST_ON_RESTART = "an unread result is lost when RabbitMQ restarts"
BLOCKING = (
    "a running task blocks its worker: revoke(terminate=True) and time limits cannot stop "
    "it, pings go unanswered, Flower shows the worker offline, and a task longer than about "
    "3 minutes misses RabbitMQ's heartbeats, so RabbitMQ drops the worker and the task runs "
    "again, for ever"
)
NO_STARTED_STATE = (
    "result.state says PENDING until the task ends: a client cannot tell running from "
    "queued (monitor.py and Flower still can, from the task events)"
)
PATCHED = (
    "a patch of Celery, in bench/ only until upstream takes it; after someone deletes a "
    "client's reply queue, a result that comes back before that client next waits is lost"
)

PROFILES = {
    "tutorial": Profile({}, ("--pool=prefork",), "celeryconfig.py as it is", "none"),
    "early ack, prefetch 64": Profile(
        EARLY_ACK,
        ("--pool=prefork",),
        "take 64 tasks at a time, acknowledge them on receipt",
        f"{LOST_ON_CRASH}; {HELD}",
    ),
    "+ events off": Profile(
        {**EARLY_ACK, **EVENTS_OFF}, ("--pool=prefork",), "no task events sent", NO_EVENTS
    ),
    "+ transient results": Profile(
        {**EARLY_ACK, **EVENTS_OFF, **TRANSIENT},
        ("--pool=prefork",),
        "results not written to disk by RabbitMQ",
        LOST_ON_RESTART,
    ),
    "+ threads pool": Profile(
        {**EARLY_ACK, **EVENTS_OFF, **TRANSIENT},
        ("--pool=threads",),
        "no hand-over to a child process for each task",
        "revoke(terminate=True) cannot stop a running task, and time limits do nothing",
    ),
    "solo pool, prefetch 64": Profile(
        PREFETCH,
        ("--pool=solo",),
        "the worker runs each task in its own main thread, 64 in hand",
        f"{BLOCKING}; {HELD}",
    ),
    "reply queue declared once": Profile(
        DECLARE_ONCE,
        ("--pool=prefork",),
        "the client declares its rpc reply queue once per connection, not per task",
        PATCHED,
    ),
    "no STARTED state": Profile(
        NO_STARTED,
        ("--pool=prefork",),
        "the worker sends no STARTED state to the client, only the answer",
        NO_STARTED_STATE,
    ),
    # Measured on three nodes of its own (bench/cluster.py) in a full run, not a quick one.
    cluster.PROFILE: Profile(
        cluster.CLUSTER_SETTINGS,
        ("--pool=prefork",),
        "clusterconfig.py's settings, on a three-node cluster (docs/cluster.md)",
        "three nodes to run; a task and its answer count once a majority of the nodes has "
        "written each",
    ),
    "best of": Profile(
        {**PREFETCH, **EVENTS_OFF, **TRANSIENT, **DECLARE_ONCE, **NO_STARTED},
        ("--pool=solo",),
        "solo pool, reply queue declared once, no STARTED state, events off, transient results",
        "the solo pool's, the patch's and no STARTED state's; and with events off and "
        f"transient results, {NO_EVENTS} and {LOST_ON_RESTART}",
    ),
}
