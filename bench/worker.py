"""A worker for one profile, on a queue of its own, started and stopped by the benchmark."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cpu import children, cpu_seconds

QUEUE = "bench"


class BenchWorker:
    """`celery -A bench.profile worker` for a profile, one pool process, named bench<n>."""

    def __init__(self, app, profile, name, n=1):
        self.node = f"bench{n}@{socket.gethostname()}"
        command = [
            sys.executable, "-m", "celery", "-A", "bench.profile", "worker", "-Q", QUEUE,
            "-n", self.node, "--concurrency=1", "--loglevel=warning",
            "--without-mingle", "--without-gossip", *profile.options,
        ]  # fmt: skip
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (the worker writes it until stop())
        self.popen = subprocess.Popen(
            command,
            cwd=Path(__file__).resolve().parent.parent,
            # Revoked ids in memory only: the benchmark's workers leave no file behind.
            env={
                **os.environ,
                "BENCH_PROFILE": name,
                "ADD_SLEEP": "0",
                "CELERY_WORKER_STATE_DB": "",
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            self.wait_until_ready(app)
        except BaseException:
            self.stop()  # no worker left behind, however the wait ended
            raise

    def wait_until_ready(self, app):
        """Return when the worker answers a ping; exit, with its log, if it never does."""
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.node], timeout=0.5):
            if time.monotonic() > deadline or self.popen.poll() is not None:
                self.log.seek(0)
                sys.exit(f"bench: the worker did not start:\n{self.log.read().decode()[-2000:]}")

    def pids(self):
        """The worker's process and its pool's."""
        return [self.popen.pid, *children(self.popen.pid)]

    def cpu_seconds(self):
        """Seconds the worker and its pool processes have run on a CPU, and waited for one."""
        times = [cpu_seconds(pid) for pid in self.pids()]
        return sum(ran for ran, _ in times), sum(waited for _, waited in times)

    def rss_mb(self):
        """Resident memory of the worker and its pool processes, in MB."""
        total = 0
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024

    def stop(self):
        """A warm shutdown, as `make down` does."""
        self.popen.send_signal(signal.SIGTERM)
        self.popen.wait(30)
        self.log.close()
