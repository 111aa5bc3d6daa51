"""Tasks that retry and reject, so the monitor test sees RETRY and REJECTED."""

from celery.exceptions import Reject

from tasks import app


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
