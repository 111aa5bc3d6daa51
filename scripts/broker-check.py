"""Tell whether a RabbitMQ answers at CELERY_BROKER_URL and lets this user in.

Usage: python scripts/broker-check.py

Exit status 0: it does. 3: nothing listens there. 1: something else is wrong,
said in one line on stderr.
"""

import sys

from amqp.exceptions import AccessRefused
from kombu import Connection

import celeryconfig

SILENT = 3


def main():
    """Open and close one connection to the broker; exit with what happened."""
    client = Connection(celeryconfig.broker_url, connect_timeout=3)  # as Celery reads it
    where = client.as_uri()  # without the password
    try:
        # Once, with no retries (kombu's transport fills in guest and port 5672).
        client.transport.establish_connection().close()
    except ConnectionRefusedError:
        sys.exit(SILENT)
    except AccessRefused:
        sys.exit(
            f"broker: the RabbitMQ at {where} refuses this login; "
            "set CELERY_BROKER_URL to a user it knows (see README.md, Install)"
        )
    except (OSError, EOFError):  # a reset, a timeout, or no AMQP at all
        sys.exit(
            f"broker: something that is not RabbitMQ holds {where}; "
            "stop it, or set RABBITMQ_PORT and CELERY_BROKER_URL to a free port"
        )


if __name__ == "__main__":
    main()
