"""`python -m bench [--quick] [--chart PATH]`: Celery beside the broker's floor, in one run.

It measures the broker in CELERY_BROKER_URL (the stack's, unless set), starts
the workers it needs on a queue of its own, and stops them afterwards. A full run
measures every profile twice, then the cluster's settings once, on three nodes of its
own (bench/cluster.py), and takes about twelve minutes on two cores; --quick measures
four profiles once, with small counts, in under a minute.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench import cluster
from bench.client import (
    client_app,
    close,
    one_side_at_a_time,
    round_trips,
    send_add,
    throughput,
)
from bench.cpu import broker_pid
from bench.floor import Floor
from bench.profiles import PROFILES
from bench.report import print_report
from bench.worker import QUEUE, BenchWorker

SIZES = {  # round trips, tasks in flight, floor requests in flight
    "full": (300, 3000, 20000),
    "quick": (20, 100, 500),
}
# Each profile is measured in each round and keeps its best figures: work that other
# programs do on the machine can only make a round slower.
ROUNDS = {"full": 2, "quick": 1}
# The quick run measures the tutorial and the levers this chapter is about.
QUICK_PROFILES = ("tutorial", "solo pool, prefetch 64", "reply queue declared once", "best of")


def progress(what):
    """Say what is being measured now, on one line of the terminal."""
    print(f"bench: {what}...", file=sys.stderr, flush=True)


def percentile(times, share):
    """The share-th percentile of times, in milliseconds."""
    ordered = sorted(times)
    return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_profile(name, trips, tasks, broker, workers=1):
    """Measure one profile with that many workers of one pool process; return its figures."""
    profile = PROFILES[name]
    app = client_app(profile.settings)
    progress(f"{name}, {workers} worker(s): {trips} round trips")
    started = []
    try:
        started += [BenchWorker(app, profile, name, n) for n in range(1, workers + 1)]
        times = round_trips(app, trips)
        rest_rss = sum(worker.rss_mb() for worker in started)
        progress(f"{name}, {workers} worker(s): {tasks} tasks")
        rate, busy_rss, cores = throughput(app, tasks, started, broker)
        progress(f"{name}, {workers} worker(s): {tasks} tasks queued, then drained")
        publish_rate, drain_rate, read_rate = one_side_at_a_time(profile.settings, tasks, started)
    finally:
        for worker in started:
            worker.stop()
    close(app)
    return {
        "p50": percentile(times, 0.5),
        "p99": percentile(times, 0.99),
        "rate": rate,
        "publish_rate": publish_rate,
        "drain_rate": drain_rate,
        "read_rate": read_rate,
        "rest_rss": rest_rss,
        "busy_rss": busy_rss,
        "cores": cores,
    }


def best_of(rounds):
    """A profile's (or the floor's) figures, each the best of its rounds."""
    fastest = max(rounds, key=lambda run: run["rate"])  # its CPU times go with its rate
    rates = ("publish_rate", "read_rate", "drain_rate")
    return {
        **fastest,
        **{key: min(run[key] for run in rounds) for key in ("p50", "p99")},
        **{key: max(run[key] for run in rounds) for key in rates if key in fastest},
    }


def run_floor(url, trips, requests):
    """Measure the floor: py-amqp round trips, then requests in flight."""
    progress("the floor: py-amqp round trips and pipelined requests")
    floor = Floor(url)
    try:
        times = floor.round_trips(trips)
        rate = floor.throughput(requests)
    finally:
        floor.close()
    return {"p50": percentile(times, 0.5), "p99": percentile(times, 0.99), "rate": rate}


def run_cluster(trips, tasks):
    """The cluster profile's figures, on the benchmark's cluster, and the seconds a get()
    waits for its answer after the node that the client and the worker are on dies."""
    progress("cluster: three nodes of its own, booting")
    with cluster.cluster():
        run = run_profile(cluster.PROFILE, trips, tasks, broker=None)
        profile = PROFILES[cluster.PROFILE]
        app = client_app(profile.settings)
        worker = BenchWorker(app, profile, cluster.PROFILE)
        try:
            send_add(app, 2, 3).get(timeout=30)  # its reply queue is read from now on
            progress("cluster: node 1 killed, a task sent")
            cluster.kill_node(1)
            killed = time.perf_counter()
            send_add(app, 2, 3).get(timeout=60)
            run["stall"] = time.perf_counter() - killed
        finally:
            worker.stop()
            close(app)
    return run


def measure(size):
    """Every figure of the benchmark, as {name: value}."""
    url = client_app({}).conf.broker_url
    trips, tasks, floor_requests = SIZES[size]
    broker = broker_pid(url)
    names = (
        QUICK_PROFILES if size == "quick" else tuple(n for n in PROFILES if n != cluster.PROFILE)
    )
    rounds = [
        {
            "floor": run_floor(url, trips, floor_requests),
            **{name: run_profile(name, trips, tasks, broker) for name in names},
        }
        for _ in range(ROUNDS[size])
    ]
    runs = {name: best_of([measured[name] for measured in rounds]) for name in rounds[0]}
    floor = runs.pop("floor")
    best = max((n for n in runs if n != "tutorial"), key=lambda n: runs[n]["rate"])
    two = run_profile(best, trips, tasks, broker, workers=2)
    with client_app({}).connection_for_write() as connection:
        connection.default_channel.queue_delete(QUEUE)  # leave the broker as it was
    if size == "full":
        try:
            runs[cluster.PROFILE] = run_cluster(trips, tasks)
        except subprocess.CalledProcessError:  # scripts/cluster.sh has said why
            progress("cluster: its nodes did not start or stop: the report leaves it out")
    return {"floor": floor, "runs": runs, "best": best, "two": two}


def main():
    """Measure, print the table, write the chart."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="four profiles, small counts")
    # Under .run/: a run leaves the picture in docs/ as it is, unless asked to retake it.
    parser.add_argument("--chart", default=".run/bench.png", help="where to write the PNG")
    args = parser.parse_args()
    Path(args.chart).parent.mkdir(parents=True, exist_ok=True)
    print_report(measure("quick" if args.quick else "full"), args.chart)


if __name__ == "__main__":
    main()
