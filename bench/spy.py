"""`python -m bench.spy [PROFILE]`: where a profile's whole run spends its time, side by side.

It runs the profile ("best of" unless named) end to end with 10,000 tasks while py-spy
samples the client (this process) and the worker, then prints the CPU time that the
client, the worker and the broker spent per task, and what share of its samples each step
of the client and the worker took. py-spy samples a process that runs or waits for a CPU,
so a wait lands on the step that gave the CPU up: a socket call, or a `time.sleep(0)`
(Celery's get() calls it for each message; tasks.py's add() with ADD_SLEEP=0). Needs
py-spy (`pip install py-spy`) and Linux.
"""

import collections
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.client import client_app, close, cpu_used, in_cores, read_answers, send_add
from bench.cpu import broker_pid
from bench.profiles import PROFILES
from bench.worker import BenchWorker

TASKS = 10_000
# What each side does, as (what, a frame found in its stacks): a sample counts for the
# first of these found anywhere in its stack, else for "the rest".
STEPS = {
    "client": [
        ("rpc backend: declare the reply queue (on_task_call)", "on_task_call"),
        ("kombu/py-amqp: publish the task message", "Producer.publish"),
        ("Celery: build the task message (send_task)", "send_task"),
        ("Celery: get() the answer", "AsyncResult.get"),
    ],
    "worker": [
        ("tasks.py: add() itself", "add (tasks.py"),
        ("rpc backend: publish the answer (store_result)", "store_result"),
        ("Celery: send task events", "EventDispatcher"),
        ("kombu: acknowledge the task", "Message.ack"),
        ("Celery: receive, decode and trace the task", "on_task_received"),
    ],
}


def spy(pid, out):
    """Start py-spy sampling process pid into out, in its raw (collapsed stacks) format."""
    command = ["py-spy", "record", "--pid", str(pid), "--rate", "250", "--nonblocking"]
    return subprocess.Popen(
        [*command, "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def shares(side, samples):
    """The share of side's samples that each of its STEPS took, and the number of samples."""
    counts, total = collections.Counter(), 0
    for line in Path(samples).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        step = next((what for what, frame in STEPS[side] if frame in stack), "the rest")
        counts[step] += int(count)
        total += int(count)
    steps = [what for what, _ in STEPS[side]] + ["the rest"]
    return [(counts[step] / total, step) for step in steps], total


def main():
    """Run, sample, print."""
    name = sys.argv[1] if len(sys.argv) > 1 else "best of"
    profile = PROFILES[name]
    app = client_app(profile.settings)
    broker = broker_pid(app.conf.broker_url)
    worker = BenchWorker(app, profile, name)
    out = Path(tempfile.mkdtemp(prefix="bench-spy-"))
    try:
        send_add(app, 0, 0).get(timeout=30)  # connected, reply queue consumed
        spies = [spy(os.getpid(), out / "client.txt"), spy(worker.popen.pid, out / "worker.txt")]
        time.sleep(1)  # py-spy attaches
        before, started = cpu_used([worker], broker), time.perf_counter()
        read_answers([send_add(app, n, 1) for n in range(TASKS)])
        elapsed = time.perf_counter() - started
        cores = in_cores(before, cpu_used([worker], broker), elapsed)
        for process in spies:
            process.send_signal(signal.SIGINT)  # py-spy writes its samples then
            process.wait(30)
    finally:
        worker.stop()
    close(app)
    print(f"{name}: {TASKS / elapsed:.0f} tasks/s end to end")
    for side, times in cores.items():
        if times:
            ran, waited = (1e6 * share * elapsed / TASKS for share in times)
            print(f"  {side}: {ran:.0f} us of CPU per task, and {waited:.0f} us waiting for one")
    for side in STEPS:
        steps, total = shares(side, out / f"{side}.txt")
        print(f"\n{side}: {total} samples")
        for share, step in steps:
            print(f"  {100 * share:5.1f}%  {step}")
    print(f"\nthe samples, in py-spy's raw format (for a flame graph): {out}")


if __name__ == "__main__":
    main()
