"""What a run of the tests that was cut short left running, and how the next one stops it,
and nothing else: every process the tests start carries MARK in its environment
(conftest.py sets it)."""

import os
import signal
import subprocess
import time
from pathlib import Path

from helpers import ROOT, RUNS

MARK = f"CELERY_MEMO_TESTS={RUNS}".encode()


def ours(pid):
    """True if process pid runs at the repo root and a run of the tests started it: its
    environment (as it started) carries their MARK, or it is a run of pytest."""
    proc = Path(f"/proc/{pid}")
    try:
        if (proc / "cwd").resolve() != ROOT:
            return False
        environment = (proc / "environ").read_bytes().split(b"\0")
        program = (proc / "cmdline").read_bytes().split(b"\0")
        pytest = any(arg == b"pytest" or arg.endswith(b"/pytest") for arg in program[:3])
        return MARK in environment or pytest  # (python -m pytest, or .venv/bin/pytest)
    except OSError:
        return False


def stop_leftovers(runs):
    """Stop the processes and nodes an interrupted run left under runs (their pid files)."""
    pids = set()
    for pid_file in runs.rglob("*.pid"):
        text = pid_file.read_text().strip()
        if text.isdigit() and ours(int(text)):
            pids.add(int(text))
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while (pids := {pid for pid in pids if ours(pid)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def stop_epmds(ports):
    """Stop the epmd that a test's node started on each of ports and an interrupted run
    left (epmd runs from /, so ours() cannot tell it): epmd refuses while a node is
    registered with it."""
    for port in ports:
        env = {**os.environ, "ERL_EPMD_PORT": str(port)}
        subprocess.run(["epmd", "-kill"], env=env, capture_output=True, timeout=10)
