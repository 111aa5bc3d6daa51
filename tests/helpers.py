"""Small tools the tests share: waiting for a condition, running a real process."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def readme_block(after, fence="text"):
    """The first fenced block of README.md that follows the text after."""
    text = (ROOT / "README.md").read_text().split(after, 1)[1]
    return text.split(f"```{fence}\n", 1)[1].split("```", 1)[0]


def wait_for(condition, timeout=20, what="the condition"):
    """Poll condition() until it returns something true; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return result


def is_running(app, result, node):
    """True once worker node reports result's task among its active ones."""
    active = app.control.inspect(destination=[node], timeout=1).active() or {}
    return any(task["id"] == result.id for task in active.get(node, []))


# A REPL of its own: it sends add(n, 1) to the n-th queue named, prints the ids,
# waits for a line on stdin (while the test breaks something), then prints what
# each get() gave.
CLIENT = """
import json, sys
from tasks import add
results = [add.apply_async((n, 1), queue=q) for n, q in enumerate(sys.argv[2:])]
print(json.dumps([r.id for r in results]), flush=True)
sys.stdin.readline()
answers = []
for result in results:
    try:
        answers.append(result.get(timeout=float(sys.argv[1])))
    except Exception as exc:
        answers.append(type(exc).__name__)
print(json.dumps(answers), flush=True)
"""


def start_client(broker, queues, timeout):
    """Start CLIENT on broker; return the process and the ids of the tasks it sent."""
    process = subprocess.Popen(
        [PYTHON, "-c", CLIENT, str(timeout), *queues],
        cwd=ROOT,
        env={**os.environ, "CELERY_BROKER_URL": broker},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, json.loads(process.stdout.readline())


class Process:
    """A command run in its own process group at the repo root, output to a log file."""

    def __init__(self, args, log, **env):
        self.log = Path(log)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as out:
            self.popen = subprocess.Popen(
                args,
                cwd=ROOT,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self):
        """What the process has printed so far."""
        return self.log.read_text()

    def send(self, signum):
        """Send signum to the whole process group (make and what it started)."""
        os.killpg(self.popen.pid, signum)

    def stop(self, signum=signal.SIGTERM, timeout=20):
        """Stop the process group and return the exit status."""
        if self.popen.poll() is None:
            self.send(signum)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.send(signal.SIGKILL)
                self.popen.wait()
        return self.popen.returncode
