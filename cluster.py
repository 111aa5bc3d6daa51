"""What the tutorial's app needs from Celery to lose any one node of a RabbitMQ cluster.

``clusterconfig.py`` selects it; docs/cluster.md says why each piece is there.
"""

import logging
import time

import celery.worker.consumer
from amqp.exceptions import MessageNacked
from celery import bootsteps
from celery.backends.rpc import RPCBackend
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


class QuorumRPCBackend(RPCBackend):
    """The rpc:// result backend, with each client's reply queue a quorum queue."""

    # Celery's reply queue is a classic queue: it lives on the node that declared it,
    # and while that node is down the client can neither read it nor declare it again
    # (404 NOT_FOUND, "home node ... is down"). A quorum queue is on every node, but it
    # cannot be auto-delete: it goes once unused for x-expires (result_expires).
    @property
    def binding(self):
        return self.Queue(
            self.oid,
            self.exchange,
            self.oid,
            durable=True,
            auto_delete=False,
            expires=self.expires,
            queue_arguments={"x-queue-type": "quorum"},
        )

    def store_result(self, *args, **kwargs):
        """Send a result as rpc:// does; send it again if the cluster refuses it."""
        # In the first moments after a node dies, RabbitMQ may nack a result (with
        # confirm_publish on). Celery would report the task as failed, with that error,
        # though it ran: a nacked message is one to publish again.
        for attempt in range(1, 6):
            try:
                return super().store_result(*args, **kwargs)
            except OperationalError as error:
                if not isinstance(error.__cause__, MessageNacked) or attempt == 5:
                    raise
                log.warning("The cluster refused a result (nack): sending it again")
                time.sleep(0.1 * attempt)


# Where the cluster puts a task once it has been delivered too often: scripts/cluster.sh
# sets the policy (delivery-limit, dead-letter routing key) on the task queue, `celery`.
DEAD_LETTER_QUEUE = "celery.dead"


class DeadLetterQueue(bootsteps.StartStopStep):
    """Declare the dead-letter queue as the worker connects (RabbitMQ drops a dead letter
    that has no queue to go to)."""

    requires = ("celery.worker.consumer.connection:Connection",)

    def start(self, consumer):
        # A quorum queue, as the task queue is: it outlives any one node. Nothing reads it
        # but you: a task there waits for someone to look at it.
        consumer.connection.default_channel.queue_declare(
            DEAD_LETTER_QUEUE, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
        )


class Consumer(celery.worker.consumer.Consumer):
    """A worker's consumer that declares the dead-letter queue, without Celery's native
    delayed delivery step."""

    # Quorum queues switch that step on, and it connects to each URL of broker_url in
    # turn, retrying a node that is down for 9 s: the worker reads nothing meanwhile
    # and sends no heartbeat, so the node it is connected to drops it, and it starts
    # again, for as long as the node is down. The step serves topic exchanges only,
    # and the tutorial's queue is on the direct exchange `celery`: countdown tasks wait
    # in the worker, as they do on one node.
    class Blueprint(celery.worker.consumer.Consumer.Blueprint):
        default_steps = (
            *(
                step
                for step in celery.worker.consumer.Consumer.Blueprint.default_steps
                if not step.endswith(":DelayedDelivery")
            ),
            DeadLetterQueue,
        )
