"""`make up`, `make logs`, `make status` and `make down`, without a Docker engine."""

import os
import subprocess

import pytest

from conftest import RUN
from helpers import PYTHON, ROOT, Process, wait_for

PORT = 5674
# A stack of its own: a stack that `make up` left running is not touched.
STACK_ENV = {
    "STACK": "native",
    "STACK_DIR": str(RUN / "stack"),
    "RABBITMQ_NODE": "celery-memo-stack-test",
    "RABBITMQ_PORT": str(PORT),
    "RABBITMQ_MANAGEMENT_PORT": "15674",
    "FLOWER_PORT": "5557",
    "CELERY_BROKER_URL": f"pyamqp://guest@localhost:{PORT}//",
    "ADD_SLEEP": "0",
}


def make(target):
    """Run a make target against the test stack."""
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env={**os.environ, **STACK_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )


def listening_sockets(pids):
    """The local addresses that the processes pids (or epmd) listen on."""
    lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines()
    return [
        line.split()[3]
        for line in lines
        if '"epmd"' in line or any(f"pid={pid}," in line for pid in pids)
    ]


def listening(port):
    """True if something accepts connections on localhost:port."""
    return (
        subprocess.run(
            ["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"], capture_output=True
        ).returncode
        == 0
    )


@pytest.fixture
def stack():
    """Whatever the test brings up is brought down."""
    yield
    make("down")


@pytest.mark.timeout(150)
def test_make_up_runs_the_stack_until_make_down(stack):
    up = make("up")
    assert up.returncode == 0, up.stderr
    assert f"amqp://localhost:{PORT}" in up.stdout
    assert "http://localhost:15674" in up.stdout
    assert "http://localhost:5557" in up.stdout
    assert listening(5557)  # Flower answers before `make up` returns
    pids = [(RUN / "stack" / name).read_text().strip() for name in ("worker.pid", "flower.pid")]
    pids.append((RUN / "stack" / "rabbitmq" / "rabbitmq.pid").read_text().strip())
    addresses = listening_sockets(pids)
    assert len(addresses) >= 5  # AMQP, management UI, Erlang distribution, epmd, Flower
    assert all(a.startswith(("127.0.0.1:", "[::1]:")) for a in addresses), addresses
    again = make("up")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout

    logs = Process(["make", "--no-print-directory", "logs"], RUN / "stack-logs.log", **STACK_ENV)
    client = subprocess.run(
        [PYTHON, "-c", "from tasks import add; print(add.delay(2, 3).get(timeout=10))"],
        cwd=ROOT,
        env={**os.environ, **STACK_ENV},
        capture_output=True,
        text=True,
    )
    assert client.stdout == "5\n", client.stderr
    wait_for(lambda: "succeeded in" in logs.output(), what="make logs to show the task")
    logs.stop()
    status = make("status").stdout
    assert "1 node online" in status
    assert "flower: http://localhost:5557" in status

    down = make("down")
    assert down.returncode == 0, down.stderr
    assert not any(listening(port) for port in (PORT, 15674, 5557))
    assert not (RUN / "stack" / "worker.pid").exists()
    assert list((RUN / "stack").glob("flower.*")), "Flower saved its state on the way down"
