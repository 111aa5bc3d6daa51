"""A worker for one profile, on a queue of its own, started and stopped by the benchmark."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUEUE = "bench"


class BenchWorker:
    """`celery -A bench.profile worker` for a profile, with concurrency processes."""

    def __init__(self, app, profile, name, concurrency):
        self.node = f"bench@{socket.gethostname()}"
        command = [
            sys.executable, "-m", "celery", "-A", "bench.profile", "worker", "-Q", QUEUE,
            "-n", self.node, f"--concurrency={concurrency}", "--loglevel=warning",
            "--without-mingle", "--without-gossip", *profile.options,
        ]  # fmt: skip
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (the worker writes it until stop())
        self.popen = subprocess.Popen(
            command,
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "BENCH_PROFILE": name, "ADD_SLEEP": "0"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.node], timeout=0.5):
            if time.monotonic() > deadline or self.popen.poll() is not None:
                self.log.seek(0)
                sys.exit(f"bench: the worker did not start:\n{self.log.read().decode()[-2000:]}")

    def rss_mb(self):
        """Resident memory of the worker and its pool processes, in MB."""
        pids = [self.popen.pid]
        children = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        if children.exists():
            pids += children.read_text().split()
        total = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024

    def stop(self):
        """A warm shutdown, as `make down` does."""
        self.popen.send_signal(signal.SIGTERM)
        self.popen.wait(30)
        self.log.close()
