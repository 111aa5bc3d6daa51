"""Host 2: a network namespace of its own, joined to this host by a veth pair."""

import os
import shutil
import subprocess

NAMESPACE = "celery-memo-host2"
LINK, PEER = "cm-host1", "cm-host2"  # the two ends of the veth pair
HOST1, HOST2 = "10.77.0.1", "10.77.0.2"  # this host and host 2, on their own link
POSSIBLE = os.geteuid() == 0 and shutil.which("ip") is not None


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


def remove():
    """Remove host 2, and the veth pair with it."""
    subprocess.run(["ip", "netns", "del", NAMESPACE], capture_output=True)
