"""Small tools the tests share: waiting for a condition, running a real process."""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / ".run" / "tests"  # what a run of the tests keeps: nodes, logs, pid files
PYTHON = sys.executable


def readme_block(after, fence="text", document="README.md"):
    """The first fenced block of a document that follows the text after."""
    text = (ROOT / document).read_text().split(after, 1)[1]
    return text.split(f"```{fence}\n", 1)[1].split("```", 1)[0]


class Session(NamedTuple):
    """A REPL session shown in a document: where it is, and what is typed and shown."""

    name: str
    text: str


def sessions(document):
    """The ```pycon blocks of a document (a path from the repo root)."""
    text = (ROOT / document).read_text()
    return [
        Session(f"{document}:{text[: m.start()].count(chr(10)) + 1}", m[1])
        for m in re.finditer(r"```pycon\n(.*?)```", text, re.S)
    ]


def readme_sessions():
    """The tutorial's REPL sessions, as README.md shows them."""
    return sessions("README.md")


def run_session(text, timeout=45, **env):
    """Run a REPL session with tests/pycon.py in a fresh interpreter at the repo root. A
    session that hangs ends after timeout (within a test's 60 s), with what it printed."""
    try:
        return subprocess.run(
            [PYTHON, "-u", "tests/pycon.py"],  # unbuffered: a hung session shows how far it got
            input=text,
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as hung:
        outputs = (hung.output, hung.stderr)
        printed = "".join(o if isinstance(o, str) else o.decode() for o in outputs if o)
        return subprocess.CompletedProcess(hung.cmd, -9, f"hung after {timeout} s:\n{printed}", "")


def fresh_copy(where):
    """Copy the repo's files to where, as a clone has them (tracked, or new and not ignored)."""
    where.mkdir(parents=True)
    # tar keeps modification times, so make sees a shared .venv as up to date.
    subprocess.run(
        "git ls-files -z --cached --others --exclude-standard"
        f" | tar -c --null --ignore-failed-read -T - 2>/dev/null | tar -x -C '{where}'",
        shell=True,
        cwd=ROOT,
        check=True,
    )
    return where


def wait_for(condition, timeout=20, what="the condition"):
    """Poll condition() until it returns something true; fail after timeout seconds,
    saying what was awaited (what, or what() for a message made as it fails)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            what = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return result


def listening(port):
    """True if something accepts connections on localhost:port."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def message_count(app, queue):
    """How many messages wait in queue (amqp's NotFound if there is no such queue)."""
    with app.connection_for_write() as connection:
        return connection.default_channel.queue_declare(queue, passive=True).message_count


def rabbitmq_version(app):
    """The version of RabbitMQ that app's first node runs, as numbers: (3, 10, 8)."""
    with app.connection_for_write() as connection:
        version = connection.connection.server_properties["version"]  # connects
    return tuple(int(part) for part in version.split("."))


def declare_queue(app, name):
    """Declare queue name as Celery does for a task sent there (the app's own queue of
    that name, such as a quorum `celery`, else a new one); return name. (A message sent
    to a queue that does not exist is dropped: counting there would prove nothing.)"""
    with app.connection_for_write() as connection:
        app.amqp.queues[name](connection.default_channel).declare()
    return name


def client_of(url, monkeypatch, settings="celeryconfig"):
    """Yield a client of the broker at url, with the tutorial's settings as tasks.py has
    them, or with those of the module settings names."""
    from celery import Celery

    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads it before its settings
    app = Celery("tasks", set_as_current=False)
    app.config_from_object(settings)
    yield app
    # Its connection to the rpc reply queue: none if it never read a result, and gone if
    # its node died and it gave up reconnecting.
    with contextlib.suppress(AttributeError, OSError):
        app.backend.result_consumer.stop()
    app.close()


HELD = []  # every Held sent, so that a test's workers can let them all go as it ends


class Held:
    """A hold() task of extra_tasks, sent to queue (by app, else by the tutorial's):
    started() waits until a worker runs it, release() lets it end (and any later run)."""

    def __init__(self, where, queue, app=None):
        from tasks import app as tutorial

        HELD.append(self)
        self.release_file = Path(where) / f"release-{time.monotonic_ns()}"
        self.started_file = self.release_file.with_name(self.release_file.name + ".started")
        self.result = (app or tutorial).send_task(
            "extra_tasks.hold", (str(self.release_file),), queue=queue
        )

    def started(self, timeout=20):
        """Wait until a worker runs the task; forget that it did, for the next run."""
        wait_for(self.started_file.exists, timeout, f"{self.result.id} to start")
        self.started_file.unlink()

    def release(self):
        """Let the task (and any later run of it) end."""
        self.release_file.touch()


def start_client(broker, queues, timeout):
    """Start tests/client.py on broker; return the process and the ids of the tasks it sent."""
    process = subprocess.Popen(
        [PYTHON, "tests/client.py", str(timeout), *queues],
        cwd=ROOT,
        env={**os.environ, "CELERY_BROKER_URL": broker},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, json.loads(process.stdout.readline())


class Process:
    """A command run in its own process group at the repo root, output to a log file,
    with env added to the environment (None: taken out of it)."""

    def __init__(self, args, log, **env):
        self.log = Path(log)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as out:
            self.popen = subprocess.Popen(
                args,
                cwd=ROOT,
                env={k: v for k, v in {**os.environ, **env}.items() if v is not None},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Where the next run finds it, should this one be interrupted (leftovers.py).
        self.log.with_suffix(".pid").write_text(str(self.popen.pid))

    def output(self):
        """What the process has printed so far."""
        return self.log.read_text()

    def logged(self, text, timeout=20):
        """Wait until the process has printed text; return all it printed."""
        return wait_for(
            lambda: text in (out := self.output()) and out,
            timeout,
            lambda: f"{text!r} in {self.log}, which ends:\n" + self.output()[-3000:],
        )

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


def wait_until_listening(monitor, app):
    """Return once the monitor prints an event that app sends."""
    with app.events.default_dispatcher() as dispatcher:

        def heard():
            # retry: on a cluster whose node has just rejoined, the probe's connection was
            # once reset; the probe tests nothing, so it connects again.
            dispatcher.send("task-sent", uuid="probe", name="probe", retry=True)
            return "probe" in monitor.output()

        wait_for(heard, what="the monitor to listen")
