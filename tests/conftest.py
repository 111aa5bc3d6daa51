"""Fixtures: the tests' own RabbitMQ nodes and the post's worker, all real.

Run in parallel (pytest-xdist), each test process gets a directory and ports
of its own. A run that was interrupted leaves nothing that the next one does
not stop first.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import ci_skips
import host2
import scheduling
from helpers import PYTHON, ROOT, Process, client_of, listening, wait_for
from scheduling import SPARE_SCOPE, scope

# The tests set every setting they depend on: none leaks in from the user's shell.
LEAKS = re.compile(r"^(CELERY_|RABBITMQ_|FLOWER_|COMPOSE_|STACK)|^ADD_SLEEP$")
for name in [name for name in os.environ if LEAKS.match(name)]:
    del os.environ[name]

RUNS = ROOT / ".run" / "tests"
SLOT = host2.SLOT  # which parallel test process this is: 0, 1, ...
RUN = RUNS / f"gw{SLOT}"


def port(base):
    """A port of this test process's own: base, moved up by 10 for each parallel one."""
    return base + 10 * SLOT


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
MARK = f"CELERY_MEMO_TESTS={RUNS}".encode()


def docker_ready():
    """Why the Docker path cannot be tested here, or "" if it can."""
    if not shutil.which("docker"):
        return "no docker command"
    if subprocess.run(["docker", "info"], capture_output=True).returncode:
        return "no Docker engine answers"
    version = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True)
    if version.returncode or not re.match(rb"v?[2-9]\.", version.stdout):
        return "no Compose v2 (docker compose)"
    return ""


def ours(pid):
    """True if process pid runs at the repo root and a run of the tests started it: its
    environment (as it started) carries their MARK, or it is a run of pytest."""
    proc = Path(f"/proc/{pid}")
    try:
        if (proc / "cwd").resolve() != ROOT:
            return False
        environment = (proc / "environ").read_bytes().split(b"\0")
        return MARK in environment or b"pytest" in (proc / "cmdline").read_bytes()
    except OSError:
        return False


def stop_leftovers(runs):
    """Stop the processes and nodes an interrupted run left under runs (their pid files)."""
    pids = set()
    for pid_file in runs.rglob("*.pid"):
        text = pid_file.read_text().strip()
        if text.isdigit() and ours(int(text)):
            pids.add(int(text))
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while (pids := {pid for pid in pids if ours(pid)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


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


def pytest_configure(config):
    config.pluginmanager.register(ci_skips, "ci_skips")
    config.pluginmanager.register(scheduling, "scheduling")


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
    if host2.POSSIBLE:
        host2.remove_all()
    shutil.rmtree(RUNS, ignore_errors=True)
    RUNS.mkdir(parents=True, exist_ok=True)
    lock.write_text(str(os.getpid()))
    # guest, with a virtual host for each test process (and its README worker)
    vhosts = ["/", *(f"gw{slot}{part}" for slot in range(16) for part in ("", "-readme"))]
    write_definitions(DEFINITIONS, vhosts, {"guest": "guest"})
    if not listening(DISTRO_PORT):
        BROKER_ENV["RABBITMQ_EXTRA_CONFIG"] += f"\\n{DISTRO_LISTENER}"
    start_distros_epmd()
    # It boots while the test processes start; the broker fixture waits for it.
    global node_start
    node_start = rabbitmq("start", background=True)
    if not docker_ready():
        make_images(session.config.pluginmanager.get_plugin("terminalreporter"))


# The Compose file the Docker tests add to docker-compose.yml when they run stand-ins.
STAND_INS = RUNS / "stand-ins.compose.yml"


def make_images(terminal):
    """Make sure the images docker-compose.yml names are on the engine, and where
    stand-ins take their place, write STAND_INS to run them instead."""
    compose = (ROOT / "docker-compose.yml").read_text()
    rabbitmq, python = (
        re.search(r"image: (rabbitmq:\S+)", compose)[1],
        re.search(r"FROM (\S+)", compose)[1],
    )
    made = subprocess.run(
        [ROOT / "tests" / "docker" / "stand-ins.sh", rabbitmq, python],
        capture_output=True,
        text=True,
    )
    for line in made.stderr.splitlines():
        terminal.write_line(line, bold=True)
    if made.returncode:
        pytest.exit("the Docker images could not be made", returncode=1)
    stand_ins = dict(line.split() for line in made.stdout.splitlines())
    if not stand_ins:
        return
    services = {"rabbitmq": {"image": stand_ins.get(rabbitmq, rabbitmq)}}
    if python in stand_ins:
        # The worker's image, built FROM the stand-in, under a name no user's stack runs.
        build = {"additional_contexts": {python: f"docker-image://{stand_ins[python]}"}}
        for service in ("worker", "flower"):
            services[service] = {"image": "celery-memo-stand-in/celery-memo-python"}
        services["worker"]["build"] = build
    STAND_INS.write_text(json.dumps({"services": services}, indent=2))  # JSON is YAML too


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


# Each scope's seconds in the last run: the next run starts the slowest first, so that
# no test process is left with a long one at the end.
DURATIONS = "celery-memo/scope-seconds"
scope_seconds = {}


def pytest_collection_modifyitems(config, items):
    """Order the tests by how long their scope() took last time, the slowest first."""
    for item in items:
        if "spare_broker" in item.fixturenames and scope(item.nodeid) != SPARE_SCOPE:
            raise pytest.UsageError(f"{item.nodeid} uses the spare node: add it to SPARE_TESTS")
    cache = getattr(config, "cache", None)  # none with -p no:cacheprovider
    seconds = cache.get(DURATIONS, {}) if cache else {}
    items.sort(key=lambda item: -seconds.get(scope(item.nodeid), 0))


def pytest_runtest_logreport(report):
    """Add up each scope's seconds (the main process hears every test's)."""
    key = scope(report.nodeid)
    scope_seconds[key] = scope_seconds.get(key, 0) + report.duration


def pytest_sessionfinish(session):
    """Once per run, after every test process: stop the tests' node, and keep each
    scope's seconds for the next run."""
    if not hasattr(session.config, "workerinput"):
        if node_start:
            node_start.wait()
        rabbitmq("stop")
        cache = getattr(session.config, "cache", None)
        if cache and scope_seconds:
            seconds = {**cache.get(DURATIONS, {}), **scope_seconds}
            kept = {k: s for k, s in seconds.items() if k == SPARE_SCOPE or (ROOT / k).exists()}
            cache.set(DURATIONS, kept)


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
