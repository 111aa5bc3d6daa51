"""`make up`, `logs`, `status`, `down` and `clean` without Docker: a private node, or
a RabbitMQ the machine already runs."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import OWN_EPMD, RUN, node_settings, port, rabbitmq
from helpers import PYTHON, ROOT, Process, fresh_copy, listening, wait_for
from leftovers import stop_leftovers

PORT, MANAGEMENT_PORT, FLOWER_PORT = port(5674), port(15674), port(5557)
# A stack of its own: a stack that `make up` left running is not touched.
STACK_ENV = {
    "STACK": "native",
    "COMPOSE_PROJECT_NAME": "celery-memo-stack-test",  # so `make clean` never reaches yours
    "RABBITMQ_NODE": f"celery-memo-stack-test-{port(0)}",
    "RABBITMQ_PORT": str(PORT),
    "RABBITMQ_MANAGEMENT_PORT": str(MANAGEMENT_PORT),
    "FLOWER_PORT": str(FLOWER_PORT),
    "CELERY_BROKER_URL": f"pyamqp://guest@localhost:{PORT}//",
    "ADD_SLEEP": "0",
}
# The stack runs as a desktop user would: in a fresh copy of the repo, with the
# system's Python, and (when the tests run as root) as a user of its own.
USER = "celery-memo-test"
DESKTOP = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHON": "/usr/bin/python3"}


def make(target, where=ROOT, user=None, **env):
    """Run a make target in where (as user, if given) with the settings env."""
    run_as = ["runuser", "-u", user, "--"] if user else []
    return subprocess.run(
        [*run_as, "env", *(f"{k}={v}" for k, v in env.items()), "make", "-s", target],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
    )


def listeners():
    """{(address, pid)} of every TCP socket that listens here, in this network namespace
    (pgrep would also find the epmd of each RabbitMQ container). No pid where the owner is
    another user and the tests do not run as root."""
    lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines()
    return {(line.split()[3], (re.findall(r"pid=(\d+),", line) or [None])[0]) for line in lines}


def listening_sockets(pids):
    """The local addresses that the processes pids listen on."""
    return [address for address, pid in listeners() if pid in pids]


def sockets_on(local_port):
    """{(address, pid)} of what listens on local_port."""
    return {(a, pid) for a, pid in listeners() if a.rsplit(":", 1)[1] == str(local_port)}


@pytest.mark.timeout(120)  # a boot and a stop, on a loaded machine
def test_a_node_that_starts_epmd_binds_it_to_loopback():
    # On a port of its own, as if no Erlang node ran here: the tests' run one (conftest.py).
    epmd_port = port(OWN_EPMD)
    node = node_settings("own-epmd", port(5679), ERL_EPMD_PORT=str(epmd_port))
    assert not sockets_on(epmd_port)
    rabbitmq("start", **node)
    try:
        addresses = sorted(address for address, _ in sockets_on(epmd_port))
    finally:
        rabbitmq("stop", **node)
    assert f"127.0.0.1:{epmd_port}" in addresses  # and [::1], where the machine has IPv6
    assert set(addresses) <= {f"127.0.0.1:{epmd_port}", f"[::1]:{epmd_port}"}
    wait_for(lambda: not sockets_on(epmd_port), 5, "the node's stop to stop the epmd it started")


@pytest.fixture(scope="module")
def desktop():
    """Where the stack runs, and as whom: a fresh copy of the repo, owned by a user that is
    not root when the tests run as root (else by the user running them)."""
    home = Path(tempfile.mkdtemp(prefix="celery-memo-desktop-"))  # outside pytest's root-only dir
    home.chmod(0o755)
    where = fresh_copy(home / "celery-memo")
    user = None
    if os.geteuid() == 0:
        user = USER
        subprocess.run(["useradd", "--create-home", USER], capture_output=True)
        subprocess.run(["chown", "-R", f"{USER}:{USER}", where], check=True)
    yield where, user, where / ".run"
    shutil.rmtree(home, ignore_errors=True)
    if user:
        subprocess.run(["userdel", "--remove", USER], capture_output=True)


@pytest.fixture(scope="module")
def stack(desktop):
    """make(target) on the test stack, as the desktop user; what it brings up is brought down."""
    where, user, stack_dir = desktop
    env = {**STACK_ENV, "STACK_DIR": str(stack_dir), **DESKTOP}
    yield lambda target: make(target, where, user, **env)
    make("down", where, user, **env)


def flower_saved(where, stack_dir, task_id):
    """True if Flower's saved state (what it loads when it starts again) has the task,
    read by the Python that Flower ran on (dbm's file format depends on it)."""
    read = "import shelve, sys; print(sys.argv[2] in shelve.open(sys.argv[1], 'r')['events'].tasks)"
    result = subprocess.run(
        [where / ".venv" / "bin" / "python", "-c", read, stack_dir / "flower", task_id],
        capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout == "True\n"


# What the tests of the stack below saw, for the ones after them (they run in file order).
SEEN = {}


@pytest.fixture(scope="module")
def up(desktop, stack):
    """The stack brought up by `make up` in the fresh copy, beside the distro's epmd."""
    SEEN["distros_epmd"] = sockets_on(4369)  # on every interface, as Debian's (conftest.py)
    return stack("up")


@pytest.mark.timeout(150)  # the first `make up` of a fresh copy installs the requirements
def test_make_up_starts_the_native_stack_as_a_user_and_says_where(desktop, up):
    where, _, stack_dir = desktop
    assert up.returncode == 0, up.stderr
    assert "The stack is up (native)" in up.stdout
    assert f"amqp://localhost:{PORT}" in up.stdout
    assert f"http://localhost:{MANAGEMENT_PORT}" in up.stdout
    assert f"http://localhost:{FLOWER_PORT}" in up.stdout
    assert listening(FLOWER_PORT)  # Flower answers before `make up` returns
    # In the fresh copy, `make up` installed the tutorial's requirements only.
    assert (where / ".venv" / "bin" / "celery").exists()
    assert not (where / ".venv" / "bin" / "pytest").exists()
    for name in ("worker.pid", "flower.pid"):  # run by the desktop's user, never root
        assert Path(f"/proc/{(stack_dir / name).read_text().strip()}").stat().st_uid != 0


def test_the_native_stack_listens_on_loopback_only_beside_the_distros_epmd(desktop, up):
    _, _, stack_dir = desktop
    pids = [(stack_dir / name).read_text().strip() for name in ("worker.pid", "flower.pid")]
    pids.append((stack_dir / "rabbitmq" / "rabbitmq.pid").read_text().strip())
    # Beside the distro's epmd, the stack starts none: its node registers there, its name
    # and its distribution port, which listens on loopback only.
    assert SEEN["distros_epmd"]
    assert sockets_on(4369) == SEEN["distros_epmd"]
    dist_port = PORT + 20000
    assert sorted(listening_sockets(pids)) == sorted(
        f"127.0.0.1:{p}" for p in (PORT, MANAGEMENT_PORT, dist_port, FLOWER_PORT)
    )
    names = subprocess.run(["epmd", "-names"], capture_output=True, text=True).stdout
    assert f"name celery-memo-stack-test-{port(0)} at port {dist_port}\n" in names


def test_a_second_make_up_leaves_the_stack_as_it_is(stack, up):
    again = stack("up")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout


def test_make_logs_and_make_status_show_the_running_stack(desktop, stack, up, tmp_path):
    where, _, stack_dir = desktop
    logs = Process(
        ["make", "-s", "-C", str(where), "logs"], tmp_path / "logs.log", STACK_DIR=str(stack_dir)
    )
    send = "from tasks import add; r = add.delay(2, 3); print(r.id, r.get(timeout=10))"
    client = subprocess.run(
        [PYTHON, "-c", send], cwd=ROOT, env={**os.environ, **STACK_ENV}, capture_output=True,
        text=True,
    )  # fmt: skip
    SEEN["task_id"], answer = client.stdout.split()
    assert answer == "5", client.stderr
    logs.logged(f"[{SEEN['task_id']}] succeeded in")
    logs.stop()
    status = stack("status").stdout
    assert f"node celery-memo-stack-test-{port(0)}@localhost running" in status
    assert "1 node online" in status
    assert f"flower: http://localhost:{FLOWER_PORT}" in status
    queues = subprocess.run(
        ["curl", "-s", "-u", "flower:flower", f"http://127.0.0.1:{FLOWER_PORT}/api/queues/length"],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert '"name": "celery"' in queues  # the Broker page's data, from the management API


def test_make_down_stops_the_stack_and_flower_keeps_what_it_saw(desktop, stack, up):
    where, _, stack_dir = desktop
    down = stack("down")
    assert down.returncode == 0, down.stderr
    assert not any(listening(p) for p in (PORT, MANAGEMENT_PORT, FLOWER_PORT))
    assert not (stack_dir / "worker.pid").exists()
    assert flower_saved(where, stack_dir, SEEN["task_id"]), (
        "Flower saved what it saw on the way down"
    )


def test_make_clean_deletes_the_saved_state(desktop, stack, up):
    _, _, stack_dir = desktop
    clean = stack("clean")
    assert clean.returncode == 0, clean.stderr
    assert not stack_dir.exists()


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("RABBITMQ_PORT", "a[$(touch {marker})]", "RABBITMQ_PORT must be a port number"),
        ("RABBITMQ_PORT", "70000", "RABBITMQ_PORT must be a port number"),
        ("FLOWER_PORT", "$(touch {marker})", "FLOWER_PORT must be a port number"),
        ("RABBITMQ_MANAGEMENT_PORT", "8080 ", "RABBITMQ_MANAGEMENT_PORT must be a port number"),
        ("STACK_DIR", "run $(touch {marker})", "STACK_DIR must be a path of letters"),
        ("RABBITMQ_DIR", "/tmp/a\nb", "RABBITMQ_DIR must be a path of letters"),
        ("RABBITMQ_NODE", "x@y", "RABBITMQ_NODE must be a name of letters"),
        ("STACK_STOP_TIMEOUT", "1e9", "STACK_STOP_TIMEOUT must be whole seconds"),
    ],
)
def test_a_bad_setting_stops_make_up_in_one_line(tmp_path, setting, value, says):
    marker = tmp_path / "ran"
    env = {"STACK": "native", "STACK_DIR": str(RUN / "bad"), setting: value.format(marker=marker)}

    up = make("up", **env)

    assert up.returncode != 0
    first, *rest = up.stderr.splitlines()
    assert says in first, first
    assert all(re.match(r"make(\[\d+\])?: \*\*\*", line) for line in rest), rest
    assert not marker.exists(), "the value ran as a command"


def stand_in(tmp_path, *argv):
    """A process that is not the stack's, ignoring SIGTERM, with argv in its command line."""
    ignore = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    process = subprocess.Popen([PYTHON, "-c", ignore, *argv], cwd=tmp_path)
    wait_for(lambda: " ".join(argv) in Path(f"/proc/{process.pid}/cmdline").read_text("latin-1")
             .replace("\0", " "))  # fmt: skip
    return process


def test_make_down_leaves_a_process_that_is_not_ours(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    other = stand_in(tmp_path, "an unrelated program")
    for name in ("worker", "flower"):  # stale pid files, naming a process not ours
        (run / f"{name}.pid").write_text(str(other.pid))
    (run / "stack").write_text("existing")

    down = make("down", STACK_DIR=str(run))

    assert down.returncode == 0, down.stderr
    assert other.poll() is None, "make down signalled a process it did not start"
    other.kill()
    other.wait()


def test_make_down_says_what_is_still_running_when_a_stop_takes_too_long(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    worker = stand_in(tmp_path, "celery -A tasks worker -n", f"worker@{socket.gethostname()}")
    (run / "worker.pid").write_text(str(worker.pid))
    (run / "stack").write_text("existing")

    down = make("down", STACK_DIR=str(run), STACK_STOP_TIMEOUT="1")

    assert down.returncode != 0
    assert down.stderr.splitlines()[0] == (
        f"stack: the worker (pid {worker.pid}) is still running after 1 s, finishing its task; "
        f"run make down again, or kill {worker.pid} (the task goes back to the queue)"
    )
    assert (run / "worker.pid").read_text() == str(worker.pid)  # still known
    worker.kill()
    worker.wait()


def test_the_tests_take_no_setting_from_the_users_shell():
    users = {
        "RABBITMQ_DIR": "/somewhere/else",
        "RABBITMQ_EXTRA_CONFIG": "listeners.tcp.default = 0.0.0.0:5672",
        "FLOWER_ADDRESS": "0.0.0.0",
        "CELERY_RESULT_PERSISTENT": "false",
        "CELERY_BROKER_URL": "pyamqp://someone:secret@elsewhere//",
        "STACK": "docker",
        "ADD_SLEEP": "600",
        "COMPOSE_PROJECT_NAME": "mine",
    }
    show = "import conftest, json, os; print(json.dumps(dict(os.environ)))"

    seen = subprocess.run(
        [PYTHON, "-c", show], cwd=ROOT / "tests", env={**os.environ, **users},
        capture_output=True, text=True, check=True,
    )  # fmt: skip

    environment = json.loads(seen.stdout)
    assert not {k: v for k, v in users.items() if environment.get(k) == v}
    assert environment["CELERY_BROKER_URL"].startswith("pyamqp://guest@localhost:")


def test_the_next_run_stops_what_an_interrupted_run_left(tmp_path):
    runs = tmp_path / "runs"
    (runs / "gw3").mkdir(parents=True)
    # A worker of a run cut short: started at the repo root, its pid file left behind.
    left = Process([PYTHON, "-c", "import time; time.sleep(60)"], runs / "gw3" / "worker.log")
    elsewhere = stand_in(tmp_path, "not started by the tests")  # not at the repo root
    (runs / "gw3" / "other.pid").write_text(str(elsewhere.pid))
    # At the repo root, but not started by the tests (no mark): yours, say.
    yours = Process(
        [PYTHON, "-c", "import time; time.sleep(60)"], runs / "yours.log", CELERY_MEMO_TESTS=None
    )

    stop_leftovers(runs)

    assert left.popen.wait(5) is not None
    assert elsewhere.poll() is None
    assert yours.popen.poll() is None
    elsewhere.kill()
    elsewhere.wait()
    yours.stop()
