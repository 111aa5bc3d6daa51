"""Check the tutorial's settings from the environment, and say in one line what is wrong.

Usage: PYTHONPATH=. python scripts/settings-check.py

`make up`, `make worker`, `make monitor` and `make flower` run it first. Exit status 0:
the settings are good; 1: one is not, said on stderr.
"""

import importlib
import os
import sys
from urllib.parse import urlsplit

from monitor import without_passwords


def settings():
    """The settings module that tasks.py loads: CELERY_CONFIG_MODULE, else celeryconfig."""
    name = os.environ.get("CELERY_CONFIG_MODULE", "celeryconfig")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as missing:
        if missing.name != name:
            raise
        sys.exit(
            f"settings: CELERY_CONFIG_MODULE={name!r} names no module at the repo root; "
            "expected celeryconfig (the tutorial's) or clusterconfig (docs/cluster.md)"
        )


def main():
    """Check the broker URL, then what tasks.py reads (ADD_SLEEP)."""
    module = settings()
    url = os.environ.get("CELERY_BROKER_URL") or module.broker_url  # as Celery reads it
    if urlsplit(url).scheme not in ("amqp", "amqps", "pyamqp"):
        sys.exit(
            f"celeryconfig: CELERY_BROKER_URL={without_passwords(url)!r} is not a "
            "RabbitMQ URL; expected one like pyamqp://user:password@host:5672/vhost"
        )
    try:
        import tasks  # noqa: F401
    except ValueError as bad:  # tasks.py names the setting and its value
        sys.exit(str(bad))


if __name__ == "__main__":
    main()
