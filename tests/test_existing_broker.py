"""`make up` beside a RabbitMQ the machine already runs, as Debian's package runs it."""

import socket
from pathlib import Path

import pytest

from conftest import RUN, on_distro_port, port
from helpers import listening, readme_sessions, run_session
from test_stack import make

FLOWER_PORT = port(5558)


@pytest.fixture(scope="module")
def distro_rabbitmq(broker):
    """A RabbitMQ running where the distro's package runs it, localhost:5672, with the
    user guest: the tests' node, which listens there too."""
    if not on_distro_port():
        pytest.skip("port 5672 was taken as the run began (a stack of yours?): the test needs it")


# Nothing set but where the stack keeps its files: the post's defaults.
DEFAULTS = {
    "STACK_DIR": str(RUN / "on-distro"),
    "COMPOSE_PROJECT_NAME": "celery-memo-stack-test",
    "FLOWER_PORT": str(FLOWER_PORT),
    "ADD_SLEEP": "3",  # for a reader's "a moment later"
}


def worker_log():
    """The end of the stack worker's log."""
    return Path(DEFAULTS["STACK_DIR"], "worker.log").read_text()[-3000:]


def make_defaults(target, **env):
    """Run a make target at the repo root with DEFAULTS and env."""
    return make(target, **DEFAULTS, **env)


@pytest.mark.timeout(150)
@pytest.mark.usefixtures("distro_rabbitmq")
def test_make_up_uses_a_rabbitmq_already_running_and_make_down_leaves_it(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL")  # as in a user's shell
    up = make_defaults("up")
    try:
        assert up.returncode == 0, up.stderr
        assert (
            "stack: a RabbitMQ already answers at pyamqp://guest@localhost:5672//: "
            "using it (make down leaves it running)\n"
        ) in up.stdout
        assert "The stack is up (existing)" in up.stdout
        assert "rabbitmq: not ours" in make_defaults("status").stdout
        for session in readme_sessions():  # as written: no CELERY_BROKER_URL anywhere
            result = run_session(session.text)
            assert result.returncode == 0, (  # the message, with the worker's log, on failure only
                session.name + result.stdout + result.stderr + worker_log()
            )
    finally:
        down = make_defaults("down")
    assert down.returncode == 0, down.stderr
    assert not listening(FLOWER_PORT)
    assert listening(5672), "the broker that was there is still there"


@pytest.mark.usefixtures("distro_rabbitmq")
def test_make_up_says_in_one_line_when_the_broker_refuses_the_login():
    up = make_defaults("up", CELERY_BROKER_URL="pyamqp://nobody:wrong@localhost:5672//")

    assert up.returncode != 0
    assert up.stderr.splitlines()[0] == (
        "broker: the RabbitMQ at amqp://nobody:**@localhost:5672// refuses this login; "
        "set CELERY_BROKER_URL to a user it knows (see README.md, Install)"
    )


def test_make_up_says_in_one_line_when_something_else_holds_the_port():
    with socket.create_server(("127.0.0.1", 0)) as other:  # a server that speaks no AMQP
        taken = other.getsockname()[1]
        up = make_defaults("up", CELERY_BROKER_URL=f"pyamqp://guest@localhost:{taken}//")

    assert up.returncode != 0
    assert up.stderr.splitlines()[0] == (
        f"broker: something that is not RabbitMQ holds amqp://guest:**@localhost:{taken}//; "
        "stop it, or set RABBITMQ_PORT and CELERY_BROKER_URL to a free port"
    )
