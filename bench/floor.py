"""The floor: py-amqp, the client Celery uses, in its tightest request-reply loop.

A server process takes each request, acknowledges it and publishes a reply; the
client measures one round trip at a time, then many requests in flight at once.
Messages are persistent on durable queues, like Celery's task messages.
"""

import multiprocessing
import time

import amqp
from kombu import Connection

REQUESTS, REPLIES = "bench.floor.requests", "bench.floor.replies"
# A forked server would inherit the benchmark's pooled broker connections, and Celery's
# after-fork clean-up in it would close them under the benchmark: start a fresh Python.
SPAWN = multiprocessing.get_context("spawn")


def channel(url):
    """A py-amqp channel on the broker at url, with both queues declared."""
    connection = Connection(url).connection  # kombu parses the URL; py-amqp underneath
    chan = connection.channel()
    for queue in (REQUESTS, REPLIES):
        chan.queue_declare(queue, durable=True, auto_delete=False)
        chan.queue_purge(queue)
    return connection, chan


def serve(url, ready):
    """Answer every request until killed: acknowledge it, then reply."""
    connection, chan = channel(url)
    chan.basic_qos(0, 100, False)

    def answer(message):
        chan.basic_publish(amqp.Message(message.body, delivery_mode=2), routing_key=REPLIES)
        chan.basic_ack(message.delivery_tag)

    chan.basic_consume(REQUESTS, callback=answer)
    ready.set()
    while True:
        connection.drain_events()


class Floor:
    """A client and a server process, on the same broker as Celery."""

    def __init__(self, url):
        ready = SPAWN.Event()
        self.server = SPAWN.Process(target=serve, args=(url, ready), daemon=True)
        self.server.start()
        ready.wait(30)
        self.connection, self.chan = channel(url)
        self.replies = 0

        def count(message):
            self.chan.basic_ack(message.delivery_tag)
            self.replies += 1

        self.consumer = self.chan.basic_consume(REPLIES, callback=count)

    def request(self, count=1):
        """Send count requests at once; return when every reply is in."""
        expected = self.replies + count
        for _ in range(count):
            self.chan.basic_publish(amqp.Message(b"2,3", delivery_mode=2), routing_key=REQUESTS)
        while self.replies < expected:
            self.connection.drain_events(timeout=30)

    def round_trips(self, count):
        """Seconds each of count single requests took, one after another."""
        times = []
        for _ in range(count):
            started = time.perf_counter()
            self.request()
            times.append(time.perf_counter() - started)
        return times

    def throughput(self, count):
        """Requests per second with count in flight at once, first sent to last answered."""
        started = time.perf_counter()
        self.request(count)
        return count / (time.perf_counter() - started)

    def close(self):
        """Stop the server and delete the queues."""
        self.server.kill()
        self.server.join()
        self.chan.basic_cancel(self.consumer)
        for queue in (REQUESTS, REPLIES):
            self.chan.queue_delete(queue)
        self.connection.close()
