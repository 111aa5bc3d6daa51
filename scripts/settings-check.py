"""Check the tutorial's settings from the environment, and say in one line what is wrong.

Usage: PYTHONPATH=. python scripts/settings-check.py

`make up`, `make worker`, `make monitor` and `make flower` run it first. Exit status 0:
the settings are good; 1: one is not, said on stderr.
"""

import sys
from urllib.parse import urlsplit

import celeryconfig
from monitor import without_passwords


def main():
    """Check the broker URL, then what tasks.py reads (ADD_SLEEP)."""
    url = celeryconfig.broker_url
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
