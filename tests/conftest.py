"""Fixtures: the tests' own RabbitMQ nodes and the post's worker, all real.

Run in parallel (pytest-xdist), each test process gets a directory and ports
of its own. A run that was interrupted leaves nothing that the next one does
not stop first (leftovers.py). Beside this file, each a job of its own:
scheduling.py (which process runs what), ci_skips.py (a skip fails CI),
images.py (the Docker tests' images), definitions.py (the nodes' users),
clusters.py (a three-node cluster's fixtures).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

import ci_skips
import clusters
import host2
import scheduling
from definitions import write_definitions
from helpers import (
    HELD,
    PYTHON,
    ROOT,
    RUNS,
    Process,
    client_of,
    listening,
    wait_for,
    wait_until_listening,
)
from images import docker_ready, make_images
from leftovers import ours, stop_epmds, stop_leftovers

# The tests set every setting they depend on: none leaks in from the user's shell.
LEAKS = re.compile(r"^(CELERY_|RABBITMQ_|FLOWER_|COMPOSE_|STACK|CLUSTER)|^ADD_SLEEP$")
for name in [name for name in os.environ if LEAKS.match(name)]:
    del os.environ[name]

SLOT = host2.SLOT  # which parallel test process this is: 0, 1, ...
RUN = RUNS / f"gw{SLOT}"


# The epmd port of the test of a node that starts its own (test_stack.py), at port(OWN_EPMD).
OWN_EPMD = 4370


SLOTS = range(16)  # the parallel test processes a run may have


def port(base, slot=SLOT):
    """A port of this test process's own (or of slot's): base, moved up by 10 for each
    parallel one."""
    return base + 10 * slot


# One node for every test process, started once per run; each process has a
# virtual host of its own on it, so their workers and queues never meet.
BROKER_PORT = 5673
BROKER_URL = f"pyamqp://guest@localhost:{BROKER_PORT}/gw{SLOT}"
# A second one, for the README's sessions and the worker they talk to.
README_BROKER_URL = f"{BROKER_URL}-readme"
# The worker's add() sleeps this long: long enough to see it run, short for a test.
ADD_SLEEP = 1.0
WORKER = f"celery@{socket.gethostname()}"


def node_settings(name, node_port, **more):
    """scripts/rabbitmq.sh settings for a node of the tests' own."""
    return {
        "RABBITMQ_DIR": str(RUN / f"{name}-rabbitmq"),
        "RABBITMQ_NODE": f"celery-memo-{name}-{SLOT}",
        "RABBITMQ_PORT": str(node_port),
        # No management UI: the tests do not use it, and the node stops 5 s sooner.
        "RABBITMQ_MANAGEMENT_PORT": "off",
        **more,
    }


node_start = None  # the tests' node booting (pytest_sessionstart)

# Its own node, ports and directory: a stack left by `make up` is never touched.
DEFINITIONS = RUNS / "definitions.json"
BROKER_ENV = {
    **node_settings("tests", BROKER_PORT),
    "RABBITMQ_DIR": str(RUNS / "tests-rabbitmq"),
    "RABBITMQ_NODE": "celery-memo-tests",
    "RABBITMQ_EXTRA_CONFIG": f"load_definitions = {DEFINITIONS}",
}
# Where Debian's package runs RabbitMQ: the tests' node answers there too (when the port is
# free as the run begins), for the tests of `make up` beside a broker already running.
DISTRO_PORT = 5672
DISTRO_LISTENER = f"listeners.tcp.distro = 127.0.0.1:{DISTRO_PORT}"


def on_distro_port():
    """True if the tests' node answers at localhost:5672 in this run."""
    return DISTRO_LISTENER in Path(BROKER_ENV["RABBITMQ_DIR"], "rabbitmq.conf").read_text()


# Every process the tests start, and tasks.py imported here, use the tests' broker,
# and their workers keep their revoked ids apart from a user's.
os.environ["CELERY_BROKER_URL"] = BROKER_URL
os.environ["CELERY_WORKER_STATE_DB"] = str(RUN / "%n.state")
# ...and carry this mark, so that the next run stops what this one left, and nothing else.
os.environ["CELERY_MEMO_TESTS"] = str(RUNS)


def pytest_configure(config):
    config.pluginmanager.register(ci_skips, "ci_skips")
    config.pluginmanager.register(scheduling, "scheduling")
    config.pluginmanager.register(clusters, "clusters")


def pytest_addoption(parser):
    parser.addoption("--screenshot", help="where the browser test saves its picture of Flower")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """Once per run, before any test process starts: clear what an interrupted run
    left, and make sure the images docker-compose.yml names are there."""
    if hasattr(session.config, "workerinput"):
        return  # a parallel test process: the main one has done it
    lock = RUNS / "pytest.lock"  # the pid of the run that uses RUNS
    other = lock.read_text() if lock.exists() else ""
    if other.isdigit() and int(other) != os.getpid() and ours(int(other)):
        pytest.exit(f"another test run (pid {other}) is using {RUNS}: wait for it", returncode=1)
    stop_leftovers(RUNS)
    if shutil.which("epmd"):
        stop_epmds(port(OWN_EPMD, slot) for slot in SLOTS)
    if host2.POSSIBLE:
        host2.remove_all()
    shutil.rmtree(RUNS, ignore_errors=True)
    RUNS.mkdir(parents=True, exist_ok=True)
    lock.write_text(str(os.getpid()))
    # guest, with a virtual host for each test process (and its README worker)
    vhosts = ["/", *(f"gw{slot}{part}" for slot in SLOTS for part in ("", "-readme"))]
    write_definitions(DEFINITIONS, vhosts, {"guest": "guest"})
    if not listening(DISTRO_PORT):
        BROKER_ENV["RABBITMQ_EXTRA_CONFIG"] += f"\\n{DISTRO_LISTENER}"
    start_distros_epmd()
    # It boots while the test processes start; the broker fixture waits for it.
    global node_start
    node_start = rabbitmq("start", background=True)
    if not docker_ready():
        make_images(session.config.pluginmanager.get_plugin("terminalreporter"))


def start_distros_epmd():
    """Start epmd as Debian's RabbitMQ does, on every interface, unless one runs: the
    tests' node stands in for the distro's, and every node of the tests registers with it."""
    if subprocess.run(["epmd", "-names"], capture_output=True).returncode:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ERL_EPMD_")}
        subprocess.run(["epmd", "-daemon"], env=env, check=True)


def rabbitmq(*args, background=False, **node):
    """Run scripts/rabbitmq.sh for the tests' node, or for the node that settings name;
    return what it printed, or in the background the process, without waiting for it."""
    command = [ROOT / "scripts" / "rabbitmq.sh", *args]
    env = {**os.environ, **(node or BROKER_ENV)}
    if background:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    return subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=True
    ).stdout


def pytest_sessionfinish(session):
    """Once per run, after every test process: stop the tests' node."""
    if not hasattr(session.config, "workerinput"):
        if node_start:
            node_start.wait()
        rabbitmq("stop")


@pytest.fixture(scope="session", autouse=True)  # every test may reach the node by its URL
def broker():
    """This test process's virtual host on the tests' node, once the node (which
    pytest_sessionstart starts) is up; yields its URL."""
    RUN.mkdir(parents=True, exist_ok=True)
    log = BROKER_ENV["RABBITMQ_DIR"] + "/log"
    wait_for(lambda: listening(BROKER_PORT), timeout=60, what=f"the tests' RabbitMQ ({log})")
    return BROKER_URL


SPARE_PORT = port(5675)
SPARE_URL = f"pyamqp://guest@localhost:{SPARE_PORT}//"
SPARE_DEFINITIONS = RUN / "spare-definitions.json"
SPARE_NODE = node_settings(
    "spare",
    SPARE_PORT,
    # Heartbeats every 2 s: a connection over a cut link is closed within seconds.
    RABBITMQ_EXTRA_CONFIG=f"heartbeat = 2\\nload_definitions = {SPARE_DEFINITIONS}"
    + (f"\\nlisteners.tcp.host2 = {host2.HOST1}:{SPARE_PORT}" if host2.POSSIBLE else ""),
)


@pytest.fixture(scope="session")
def spare_broker(broker):
    """A second node for the fault tests, free to be restarted, that host 2 reaches over
    its link, as a user of its own, where this machine can make one; yields restart()."""
    if host2.POSSIBLE:
        host2.create()
    write_definitions(SPARE_DEFINITIONS, ["/"], {"guest": "guest", host2.USER: host2.PASSWORD})
    rabbitmq("start", **SPARE_NODE)

    def restart(whole_node=False):
        """Restart RabbitMQ: by default the application (connections, queues, message
        stores) in the Erlang VM that is already up, 2 s instead of 10; whole_node stops
        the node's VM (SIGTERM, as `docker stop` does) and boots it again."""
        if whole_node:
            rabbitmq("stop", **SPARE_NODE)
            rabbitmq("start", **SPARE_NODE)
        else:
            rabbitmq("ctl", "stop_app", **SPARE_NODE)
            rabbitmq("ctl", "start_app", **SPARE_NODE)

    yield restart
    rabbitmq("stop", **SPARE_NODE)
    if host2.POSSIBLE:
        host2.remove()


@pytest.fixture
def spare_client(monkeypatch):
    """A client of the spare node, with the tutorial's settings."""
    yield from client_of(SPARE_URL, monkeypatch)


@pytest.fixture(scope="session")
def app(broker):
    """The tutorial's Celery app, as a REPL at the repo root imports it."""
    from tasks import app

    return app


@pytest.fixture(scope="session")
def worker(app):
    """`make worker`: the post's worker command, running until the session ends."""
    process = Process(
        ["make", "--no-print-directory", "worker"], RUN / "worker.log", ADD_SLEEP=str(ADD_SLEEP)
    )
    wait_for(
        lambda: app.control.ping(destination=[WORKER], timeout=0.5),
        timeout=60,
        what=f"{WORKER} to answer a ping",
    )
    yield process
    process.stop()


@pytest.fixture(params=[[PYTHON, "monitor.py"]], ids=["python monitor.py"])
def monitor(request, app, worker):
    """The monitor as the README starts it (the command in the test's parameter),
    started and listening."""
    process = Process(request.param, RUN / "monitor.log")
    wait_until_listening(process, app)
    yield process
    process.stop(signal.SIGKILL)


@pytest.fixture
def start_worker(broker):
    """Start more workers: start_worker(name, *args, prefix=(), mingle=False, **env); each
    is stopped afterwards. A prefix runs the worker through another command (`ip netns
    exec ...`); mingle=True lets it take the revoked ids of the workers already running."""
    started = []

    def start(name, *args, prefix=(), mingle=False, **env):
        node = f"{name}@{socket.gethostname()}"
        process = Process(
            [
                *prefix,
                PYTHON,
                "-m",
                "celery",
                "-A",
                "tasks",
                "worker",
                "--loglevel=info",
                "--concurrency=1",
                "-n",
                node,
                # A second faster, where a test needs no neighbours' state (revoked ids).
                *([] if mingle else ["--without-mingle"]),
                "-I",
                "extra_tasks",  # hold(), which the test releases, and the monitor's extras
                *args,
            ],
            RUN / f"{name}.log",
            **{"ADD_SLEEP": str(ADD_SLEEP), "PYTHONPATH": str(ROOT / "tests"), **env},
        )
        process.node = node
        started.append(process)
        process.logged(f"{node} ready.")
        return process

    yield start
    # A task a failed test still holds would keep its worker from a warm stop, and
    # go back to its queue for the next test's worker: let every one go first.
    while HELD:
        HELD.pop().release()
    for process in started:
        process.stop()


@pytest.fixture
def slow_worker(start_worker):
    """A worker on queue "slow" whose add() runs long enough to be stopped by hand, in a
    browser (its picture shows the tutorial's task, not hold())."""
    return start_worker("slow", "-Q", "slow", ADD_SLEEP="30")


@pytest.fixture
def held_worker(start_worker):
    """A worker on queue "held", for hold() tasks (helpers.Held) the test ends."""
    return start_worker("held", "-Q", "held")
