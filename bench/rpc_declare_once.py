"""BENCH PATCH, not the lesson's: the rpc backend with its reply queue declared once.

A profile selects it with ``result_backend = "bench.rpc_declare_once:RPCBackend"``;
tasks.py and celeryconfig.py never import it. Celery 5.7's ``RPCBackend.on_task_call``
waits for a ``queue_declare`` of the client's reply queue on every ``apply_async``;
this declares it again only when that can matter. The same change, for Celery
itself (with a fallback for Windows, which has no poll()), is
docs/upstream/rpc-declare-once.patch: keep the two alike.
"""

import math
import select
import time

from celery._state import task_join_will_block
from celery.backends import rpc
from kombu.common import maybe_declare
from kombu.utils.objects import cached_property


def has_unread_input(connection):
    """Whether the broker sent something not read yet on connection: a close, a reset."""
    sock = getattr(connection, "sock", None)
    if sock is None:
        return True  # no socket to look at: declare, as stock Celery does
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class RPCBackend(rpc.RPCBackend):
    """Celery's rpc:// backend, declaring its reply queue once per broker connection."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._renew_reply_queue_at = 0.0

    def on_task_call(self, producer, task_id):
        if not task_join_will_block():
            self._declare_reply_queue(producer.channel)

    def _declare_reply_queue(self, channel):
        # A declare waits for the broker, which costs as much as sending the task.
        # Declare again only on a new connection (kombu forgets what it declared
        # when it reconnects); when the connection has unread input (the broker
        # closed or reset it: the declare finds out and reconnects before the task
        # is sent, as the stock declare did); or when half of the queue's x-expires
        # lease has run out, as a declare renews it while nobody consumes the queue.
        client = channel.connection.client
        if (
            self._reply_queue_ident in client.declared_entities
            and time.monotonic() < self._renew_reply_queue_at
            and not has_unread_input(channel.connection)
        ):
            return
        maybe_declare(self.binding(channel), retry=True)
        client.declared_entities.add(self._reply_queue_ident)
        lease = self.expires / 2 if self.expires else math.inf
        self._renew_reply_queue_at = time.monotonic() + lease

    @cached_property
    def _reply_queue_ident(self):
        # What kombu keeps in a connection's declared_entities for the reply queue;
        # computed once, as building the Queue costs more than the rest of the check.
        return hash(self.binding)
