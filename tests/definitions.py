"""What the tests' RabbitMQ nodes load as they start: users, virtual hosts, permissions."""

import base64
import hashlib
import json
import os


def write_definitions(path, vhosts, users):
    """Write what a node loads as it starts: the users {name: password}, each allowed
    everything in every virtual host (a node that loads definitions makes no guest)."""

    def password_hash(password):  # RabbitMQ's own scheme: salt + SHA-256(salt + password)
        salt = os.urandom(4)
        return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()

    path.write_text(json.dumps({
        "users": [{"name": name, "password_hash": password_hash(password),
                   "tags": ["administrator"] if name == "guest" else [],  # as RabbitMQ's guest
                   "hashing_algorithm": "rabbit_password_hashing_sha256"}
                  for name, password in users.items()],
        "vhosts": [{"name": vhost} for vhost in vhosts],
        "permissions": [{"user": name, "vhost": vhost, "configure": ".*", "write": ".*",
                         "read": ".*"} for name in users for vhost in vhosts],
    }))  # fmt: skip
