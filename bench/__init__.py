"""`make bench`: Celery's speed on the running stack, beside the broker's own floor."""
