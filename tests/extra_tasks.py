"""Tasks the tests need beside the lesson's add(): one that runs until the test releases
it, tasks that retry and reject, so the monitor test sees RETRY and REJECTED, and one
that kills the process that runs it."""

import os
import signal
import time
from pathlib import Path

from celery.exceptions import Reject

from tasks import app


@app.task
def hold(release, timeout=60):
    """Touch release + ".started", run until the file release exists, then return the pid
    that ran it; fail loudly if nothing releases it within timeout seconds."""
    release = Path(release)
    release.with_name(release.name + ".started").touch()
    deadline = time.monotonic() + timeout
    while not release.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"hold: nothing released {release} within {timeout} s")
        time.sleep(0.02)
    return os.getpid()


@app.task(bind=True, max_retries=1)
def retry_once(self):
    """Ask to be retried once, then succeed."""
    if not self.request.retries:
        raise self.retry(countdown=0)
    return "retried"


@app.task(acks_late=True)
def reject():
    """Reject its own message (acks_late: a message can only be rejected before its ack)."""
    raise Reject("rejected on purpose", requeue=False)


@app.task
def crash():
    """Kill the process that runs it, as a segfault or the OOM killer would (SIGKILL)."""
    os.kill(os.getpid(), signal.SIGKILL)
