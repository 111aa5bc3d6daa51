"""The benchmark's figures as a Markdown table, a verdict and a chart."""

import datetime
import os
import platform
from importlib.metadata import version
from pathlib import Path

from bench.cluster import PROFILE as CLUSTER
from bench.profiles import PROFILES

DECLARE_ONCE = "reply queue declared once"
HEADER = (
    "profile", "round trip p50 ms", "p99 ms", "whole run tasks/s", "client publishing alone",
    "client reading answers alone", "worker draining alone", "limited by", "whole run / floor",
)  # fmt: skip


def ceilings(run):
    """The most tasks per second each side can do alone: one client thread both publishes
    and reads answers, so its ceiling is the two rates combined."""
    return {
        "client": 1 / (1 / run["publish_rate"] + 1 / run["read_rate"]),
        "worker": run["drain_rate"],
    }


def row(name, run, floor):
    """One line of the table: a profile's figures, blank where it has none."""
    cells = [
        f"{run[key]:.2f}" if key in run else "" for key in ("p50", "p99")
    ] + [
        f"{run[key]:.0f}" if key in run else ""
        for key in ("rate", "publish_rate", "read_rate", "drain_rate")
    ]  # fmt: skip
    limited_by = min(ceilings(run), key=ceilings(run).get) if "read_rate" in run else ""
    return [name, *cells, limited_by, f"{run['rate'] / floor['rate']:.2f}"]


def table(figures):
    """The figures as Markdown lines, one row per profile, the floor's first."""
    floor, runs, best, two = (figures[k] for k in ("floor", "runs", "best", "two"))
    rows = [
        row("floor (py-amqp)", floor, floor),
        *(row(name, run, floor) for name, run in runs.items()),
        row(f"{best}, 2 workers", {"rate": two["rate"]}, floor),
    ]
    widths = [max(len(line[i]) for line in (HEADER, *rows)) for i in range(len(HEADER))]
    words = {0, HEADER.index("limited by")}  # the columns of words, not figures
    rule = ["-" * w if i in words else "-" * (w - 1) + ":" for i, w in enumerate(widths)]

    def markdown(cells):
        """Cells padded to their column: words to the left, figures to the right."""
        padded = [
            cell.ljust(width) if i in words else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return f"| {' | '.join(padded)} |"

    return [markdown(HEADER), markdown(rule), *map(markdown, rows)]


def memory(figures):
    """The workers' resident memory, as one line."""
    tutorial, best, two = figures["runs"]["tutorial"], figures["best"], figures["two"]
    return (
        f"worker memory: tutorial {tutorial['rest_rss']:.0f} MB at rest, "
        f"{tutorial['busy_rss']:.0f} MB under load; {best}, 2 workers: "
        f"{two['busy_rss']:.0f} MB under load"
    )


def time_use(cores):
    """Each side's time during a run, in cores: how much it ran on a CPU, waited for one."""
    return "; ".join(
        f"{side} not measured"
        if times is None
        else f"{side} ran {times[0]:.2f}, waited {times[1]:.2f}"
        for side, times in cores.items()
    )


def limit(run):
    """Which side holds the whole run back, from what each side does alone."""
    client, worker = ceilings(run).values()
    side, ceiling = ("client", client) if client < worker else ("worker", worker)
    return [
        f"what limits it: the {side}: alone, the client publishes and reads "
        f"{client:.0f} tasks/s, the worker drains {worker:.0f}; together {run['rate']:.0f},",
        f"  {run['rate'] / ceiling:.2f} of the {side}'s ceiling, as they share the CPUs. "
        "In cores, during the whole run:",
        f"  {time_use(run['cores'])}",
    ]


def verdict(figures):
    """The lines that say what the run means: best figure, levers, limit, prices."""
    floor, runs, best = figures["floor"], figures["runs"], figures["best"]
    tutorial, top = runs["tutorial"], runs[best]
    lines = [
        f"best throughput: {best} ({PROFILES[best].why}), {top['rate']:.0f} tasks/s:",
        f"  {top['rate'] / tutorial['rate']:.1f}x the tutorial's {tutorial['rate']:.0f}, "
        f"{top['rate'] / floor['rate']:.2f} of the floor's {floor['rate']:.0f} msg/s",
    ]
    if DECLARE_ONCE in runs:
        patched = runs[DECLARE_ONCE]["publish_rate"]
        lines.append(
            f"client publishing, reply queue declared once: {patched:.0f} tasks/s, "
            f"{patched / tutorial['publish_rate']:.1f}x stock's {tutorial['publish_rate']:.0f}"
        )
    if CLUSTER in runs:
        on_three = runs[CLUSTER]
        lines.append(
            f"{CLUSTER}: {on_three['rate']:.0f} tasks/s, "
            f"{on_three['rate'] / tutorial['rate']:.2f} of the tutorial's on one node; "
            f"round trip p50 {on_three['p50']:.2f} ms, one node's {tutorial['p50']:.2f}; "
            f"its node killed, a task answered {on_three['stall']:.1f} s later"
        )
    lines += [*limit(top), "", "the price of each profile:"]
    return lines + [f"  {name}: {PROFILES[name].price}" for name in runs]


def machine():
    """What the figures were measured on, and how busy it was."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{datetime.date.today()}, {os.cpu_count()} cores ({model}), load average "
        f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
        f"Celery {version('celery')}, py-amqp {version('amqp')}"
    )


def chart(figures, path):
    """Each run's rates beside the floor's, whole and each side alone, and its round trip,
    as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    floor, runs, best, two = (figures[k] for k in ("floor", "runs", "best", "two"))
    names = ["floor (py-amqp)", *runs, f"{best}, 2 workers"]
    alone = [{}, *map(ceilings, runs.values()), {}]
    series = [  # (label, colour, one figure per name, 0 where there is none)
        ("whole run", "tab:green", [floor["rate"], *(r["rate"] for r in runs.values()),
                                    two["rate"]]),
        ("client alone (publishing and reading)", "tab:orange",
         [a.get("client", 0) for a in alone]),
        ("worker alone (draining)", "tab:purple", [a.get("worker", 0) for a in alone]),
    ]  # fmt: skip
    figure, (left, right) = pyplot.subplots(
        1, 2, figsize=(13, 1.5 + 0.5 * len(names)), gridspec_kw={"width_ratios": [3, 2]}
    )
    for n, (label, colour, rates) in enumerate(series):
        left.barh([y + 0.27 * (n - 1) for y in range(len(names))], rates, 0.27, label=label,
                  color=colour)  # fmt: skip
    left.set_yticks(range(len(names)), names)
    left.set_xlabel("tasks (messages) per second")
    left.legend(loc="lower right", fontsize=8)
    right.barh(names, [floor["p50"], *(r["p50"] for r in runs.values()), two["p50"]])
    right.set_xlabel("round trip p50 in ms, lower is better")
    right.set_yticklabels([])
    for axis in (left, right):
        axis.invert_yaxis()
    figure.suptitle(f"Celery on RabbitMQ, one run: {machine()}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def print_report(figures, chart_path):
    """Print the table and the verdict; write the chart."""
    print(f"\n{machine()}\n", *table(figures), "", memory(figures), sep="\n")
    chart(figures, chart_path)
    print("", *verdict(figures), f"chart: {chart_path}", sep="\n")
