"""Where the client, the worker and the broker spend their time, read from /proc (Linux)."""

import os
from pathlib import Path

from kombu.utils.url import url_to_parts


def cpu_seconds(pid):
    """Seconds the threads of process pid have run on a CPU, and waited for one."""
    ran = waited = 0
    for thread in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (thread / "schedstat").read_text().split()
        except OSError:  # the thread ended
            continue
        ran, waited = ran + int(fields[0]), waited + int(fields[1])
    return ran / 1e9, waited / 1e9


def children(pid):
    """The pids of pid's child processes (a prefork worker's pool)."""
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in found.read_text().split()] if found.exists() else []


def broker_pid(url):
    """The pid of the RabbitMQ (beam.smp) at url if it runs on this machine, else None:
    a broker elsewhere, or behind Docker's proxy, cannot be measured from here."""
    parts = url_to_parts(url)
    if parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return None
    port, inodes = parts.port or 5672, set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                pid = int(fd_dir.parent.name)
                return pid if Path(f"/proc/{pid}/comm").read_text().strip() == "beam.smp" else None
        except OSError:  # the process ended, or is not ours to read
            continue
    return None
