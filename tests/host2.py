"""Host 2: a network namespace of its own, joined to this host by a veth pair."""

import os
import shutil
import subprocess

# One host 2 for each parallel test process (see conftest.py), on a link of its own.
SLOT = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
PREFIX = "celery-memo-host2-"
NAMESPACE = f"{PREFIX}{SLOT}"
LINK, PEER = f"cm-host1-{SLOT}", f"cm-host2-{SLOT}"  # the two ends of the veth pair
HOST1, HOST2 = f"10.77.{SLOT}.1", f"10.77.{SLOT}.2"  # this host and host 2
POSSIBLE = os.geteuid() == 0 and shutil.which("ip") is not None
USER, PASSWORD = "host2", "host2-password"  # its own RabbitMQ user: guest is for localhost


def ip(*args, inside=False):
    """Run `ip ARGS`, in host 2's namespace if inside."""
    prefix = ["ip", "netns", "exec", NAMESPACE] if inside else []
    subprocess.run([*prefix, "ip", *args], check=True)


def create():
    """Make host 2 and the link to it."""
    remove()
    ip("netns", "add", NAMESPACE)
    ip("link", "add", LINK, "type", "veth", "peer", "name", PEER)
    ip("link", "set", PEER, "netns", NAMESPACE)
    ip("addr", "add", f"{HOST1}/24", "dev", LINK)
    ip("link", "set", LINK, "up")
    ip("addr", "add", f"{HOST2}/24", "dev", PEER, inside=True)
    ip("link", "set", PEER, "up", inside=True)


def remove(namespace=NAMESPACE):
    """Remove host 2, and the veth pair with it."""
    subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def remove_all():
    """Remove every host 2 that a run of the tests made, interrupted or not."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listed.splitlines():
        if line.startswith(PREFIX):
            remove(line.split()[0])
