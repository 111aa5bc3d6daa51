"""`python -m bench [--quick] [--chart PATH]`: Celery beside the broker's floor, in one run.

It measures the broker in CELERY_BROKER_URL (the stack's, unless set), starts
the workers it needs on a queue of its own, and stops them afterwards.
"""

import argparse
import datetime
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

from bench.floor import Floor
from bench.profiles import PROFILES
from bench.worker import QUEUE, BenchWorker

SIZES = {  # round trips, tasks in flight, floor requests in flight
    "full": (300, 3000, 20000),
    "quick": (20, 100, 500),
}


def progress(what):
    """Say what is being measured now, on one line of the terminal."""
    print(f"bench: {what}...", file=sys.stderr, flush=True)


def percentile(times, share):
    """The share-th percentile of times, in milliseconds."""
    ordered = sorted(times)
    return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def round_trips(add, count):
    """Seconds for each of count `add.delay(2, 3).get()`, one after another."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        add.apply_async((2, 3), queue=QUEUE).get(timeout=30)
        times.append(time.perf_counter() - started)
    return times


def throughput(add, count, worker):
    """Tasks per second, first sent to last result read; the client's publishing rate
    alone; and the worker's RSS under load."""
    started = time.perf_counter()
    results = [add.apply_async((n, 1), queue=QUEUE) for n in range(count)]
    sent = time.perf_counter()
    busy_rss = worker.rss_mb()
    answers = [r.get(timeout=120) for r in results]
    elapsed = time.perf_counter() - started
    assert answers == [n + 1 for n in range(count)], "a task was lost or answered wrongly"
    return count / elapsed, count / (sent - started), busy_rss


def run_profile(app, add, name, concurrency, trips, tasks):
    """Measure one profile; return its figures."""
    profile = PROFILES[name]
    saved = {key: app.conf[key] for key in profile.settings}
    app.conf.update(profile.settings)  # the client's side of the profile
    worker = BenchWorker(app, profile, name, concurrency)
    try:
        progress(f"{name}, {concurrency} process(es): {trips} round trips")
        times = round_trips(add, trips)
        rest_rss = worker.rss_mb()
        progress(f"{name}, {concurrency} process(es): {tasks} tasks")
        rate, publish_rate, busy_rss = throughput(add, tasks, worker)
    finally:
        worker.stop()
        app.conf.update(saved)
    return {
        "p50": percentile(times, 0.5),
        "p99": percentile(times, 0.99),
        "rate": rate,
        "publish_rate": publish_rate,
        "rest_rss": rest_rss,
        "busy_rss": busy_rss,
    }


def measure(size):
    """Every figure of the benchmark, as {name: value}."""
    from tasks import add, app

    trips, tasks, floor_requests = SIZES[size]
    progress("the floor: py-amqp round trips and pipelined requests")
    floor = Floor(app.conf.broker_url)
    try:
        floor_times = floor.round_trips(trips)
        floor_rate = floor.throughput(floor_requests)
    finally:
        floor.close()
    runs = {name: run_profile(app, add, name, 1, trips, tasks) for name in PROFILES}
    best = max((n for n in PROFILES if n != "tutorial"), key=lambda n: runs[n]["rate"])
    two = run_profile(app, add, best, 2, trips, tasks)
    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete(QUEUE)  # leave the broker as it was
    return {
        "floor": {
            "p50": percentile(floor_times, 0.5),
            "p99": percentile(floor_times, 0.99),
            "rate": floor_rate,
        },
        "runs": runs,
        "best": best,
        "two": two,
    }


def table(figures):
    """The figures as rows: (figure, value, ratio to the floor)."""
    floor, runs, best, two = (figures[k] for k in ("floor", "runs", "best", "two"))
    rows = [
        ("floor: round trip p50", f"{floor['p50']:.2f} ms", 1.0),
        ("floor: round trip p99", f"{floor['p99']:.2f} ms", 1.0),
        ("floor: pipelined", f"{floor['rate']:.0f} msg/s", 1.0),
    ]
    for name, run in runs.items():
        rows += [
            (f"{name}: round trip p50", f"{run['p50']:.2f} ms", run["p50"] / floor["p50"]),
            (f"{name}: round trip p99", f"{run['p99']:.2f} ms", run["p99"] / floor["p99"]),
            (f"{name}: throughput", f"{run['rate']:.0f} tasks/s", run["rate"] / floor["rate"]),
            (f"{name}: client publishing alone", f"{run['publish_rate']:.0f} tasks/s",
             run["publish_rate"] / floor["rate"]),
        ]  # fmt: skip
    rows += [
        (f"{best}, 2 processes: throughput", f"{two['rate']:.0f} tasks/s",
         two["rate"] / floor["rate"]),
        ("tutorial worker memory at rest", f"{runs['tutorial']['rest_rss']:.0f} MB", None),
        ("tutorial worker memory under load", f"{runs['tutorial']['busy_rss']:.0f} MB", None),
        (f"{best}, 2 processes: memory under load", f"{two['busy_rss']:.0f} MB", None),
    ]  # fmt: skip
    return rows


def machine():
    """What the figures were measured on."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{datetime.date.today()}, {os.cpu_count()} cores ({model}), Python "
        f"{platform.python_version()}, Celery {version('celery')}, py-amqp {version('amqp')}"
    )


def chart(figures, path):
    """Throughput and round trip of each run beside the floor's, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    floor, runs, best, two = (figures[k] for k in ("floor", "runs", "best", "two"))
    names = ["floor (py-amqp)", *runs, f"{best}, 2 processes"]
    rates = [floor["rate"], *(r["rate"] for r in runs.values()), two["rate"]]
    p50s = [floor["p50"], *(r["p50"] for r in runs.values()), two["p50"]]
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(12, 4.5))
    left.barh(names, rates, color="tab:green")
    left.set_xlabel("tasks (messages) per second, higher is better")
    right.barh(names, p50s, color="tab:blue")
    right.set_xlabel("round trip p50 in ms, lower is better")
    right.set_yticklabels([])
    for axis in (left, right):
        axis.invert_yaxis()
    figure.suptitle(f"Celery on RabbitMQ, one run: {machine()}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main():
    """Measure, print the table, write the chart."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, small counts")
    parser.add_argument("--chart", default="docs/bench.png", help="where to write the PNG")
    args = parser.parse_args()
    figures = measure("quick" if args.quick else "full")
    print(f"\n{machine()}\n")
    print(f"{'figure':48} {'value':>16} {'ratio to floor':>15}")
    for figure, value, ratio in table(figures):
        print(f"{figure:48} {value:>16} {'' if ratio is None else f'{ratio:.2f}':>15}")
    chart(figures, args.chart)
    best = figures["runs"][figures["best"]]
    # Publishing alone no faster than the whole run: the client is what holds it back.
    limit = "the publishing client" if best["publish_rate"] < 1.5 * best["rate"] else "the worker"
    print(f"\nbest throughput profile: {figures['best']} ({PROFILES[figures['best']].why})")
    print(f"what limits it: {limit}")
    rates = f"publishing alone {best['publish_rate']:.0f} tasks/s, the whole run {best['rate']:.0f}"
    print(f"  ({rates})")
    print(f"chart: {args.chart}")


if __name__ == "__main__":
    main()
