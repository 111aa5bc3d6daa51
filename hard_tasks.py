"""The lesson after the post's: tasks that fail, run too long or run later (docs/hard-tasks.md).

The worker that `make up` and `make worker` start runs these too: celeryconfig.py
imports this module. In a REPL at the repo root::

    >>> from hard_tasks import flaky
    >>> flaky.delay(2).get(timeout=10)
    'answered after 2 retries'
"""

import time

from celery.exceptions import SoftTimeLimitExceeded

from tasks import app


@app.task(
    bind=True,
    autoretry_for=(ConnectionError,),
    max_retries=2,
    retry_backoff=1,  # 1 s before the first retry, then 2 s, 4 s...
    retry_jitter=False,  # ...exactly: with jitter, a random part of each
)
def flaky(self, failures):
    """Fail with ConnectionError the first `failures` times it runs, then answer."""
    if self.request.retries < failures:
        raise ConnectionError(f"flaky: attempt {self.request.retries + 1} failed")
    return f"answered after {self.request.retries} retries"


@app.task(soft_time_limit=1)
def tidy(seconds):
    """Work for `seconds`; stopped at the 1 s soft limit, clean up and say so."""
    try:
        time.sleep(seconds)  # the work: a call that may hang
    except SoftTimeLimitExceeded:
        return "stopped at the soft time limit, cleaned up"  # close files, roll back...
    return "finished"


@app.task(time_limit=1)
def stuck(seconds):
    """Work for `seconds`, in a pool process that is killed at the 1 s time limit."""
    time.sleep(seconds)
    return "finished"


@app.task
def pause(seconds):
    """Work for `seconds`, with no time limit; return them."""
    time.sleep(seconds)
    return seconds
