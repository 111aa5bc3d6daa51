"""Settings for the tutorial's app on a three-node RabbitMQ cluster (`make cluster-up`).

The tutorial's settings (celeryconfig.py), and what it takes to lose any one node
and no task or result; docs/cluster.md shows each. To use them::

    $ export CELERY_CONFIG_MODULE=clusterconfig
"""

import random

from celeryconfig import *  # noqa: F403 (the tutorial's settings; some change below)

# Every node, in an order of this process's own: a client connects to the first URL
# and fails over to the next, and kombu always starts at the first, so one fixed order
# would put every client on node 1. (CELERY_BROKER_URL, if set, wins as it is.)
_nodes = [f"pyamqp://guest@localhost:{port}//" for port in (5681, 5682, 5683)]
broker_url = ";".join(random.sample(_nodes, len(_nodes)))
# A lost connection shows within seconds (two missed heartbeats), not minutes.
# (At 2 s, a starting worker's mingle hung until the broker closed its connection.)
broker_heartbeat = 4

# Task queues are quorum queues: a copy on every node, and a majority to accept a task.
task_default_queue_type = "quorum"
# A publish returns once the cluster has the task; a refused one raises.
broker_transport_options = {"confirm_publish": True}
# Results: rpc://, with reply queues that outlive the node they were declared on.
result_backend = "cluster.QuorumRPCBackend://"
# For a moment after a node dies, its queues are still listed: a worker that declares
# its control queue again then gets 404 NOT_FOUND, a channel error, and would stop.
# It starts its consumer again instead, as after a lost connection.
broker_channel_error_retry = True
# Workers skip a start-up step that stalls them while a node is down, and declare the
# queue where a task delivered too often goes (cluster.py, scripts/cluster.sh).
worker_consumer = "cluster:Consumer"
# A client's reply queue is not deleted when the client goes: unused, it expires.
result_expires = 600

del random
