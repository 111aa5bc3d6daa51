"""Flower processes started, stopped and killed: what each one keeps of the last."""

import contextlib
import dbm
import pickle
import shelve
import signal

import pytest

import flower_process as flower
from conftest import port
from helpers import ROOT, Process, fresh_copy, wait_for

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def db(tmp_path):
    """Where Flower keeps its state between runs."""
    return tmp_path / "flower"


@pytest.fixture
def start_flower():
    """Start Flower processes: start_flower(db, **options); each is stopped afterwards."""
    started = []

    def start(db, *options, **settings):
        started.append(flower.start(db, *options, **settings))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def saved_tasks(db):
    """The ids of the tasks in Flower's saved state, what it loads when it starts again."""
    try:
        with shelve.open(str(db), flag="r") as saved:
            return set(saved["events"].tasks)
    # Nothing saved yet, or read between the moves of a save's files (dbm.dumb's .dir,
    # .dat and .bak): the index and the data do not match.
    except (*dbm.error, KeyError, EOFError, pickle.UnpicklingError):
        return set()


def saved_at(db):
    """When Flower last wrote its saved state (the newest of its files' mtimes), or 0."""
    times = [0.0]
    for path in db.parent.glob(db.name + "*"):  # db, or dbm.dumb's db.dir, db.dat...
        with contextlib.suppress(FileNotFoundError):  # moved away as we looked
            times.append(path.stat().st_mtime)
    return max(times)


def save_times(db, count):
    """When Flower wrote its saved state the next count times."""
    times = [saved_at(db)]
    while len(times) <= count:  # a save writes its files within a moment: 1 s apart is new
        times.append(wait_for(lambda: (t := saved_at(db)) > times[-1] + 1 and t, 20, "a save"))
    return times[1:]


def test_flower_saves_its_state_every_5_seconds(start_flower, db):
    start_flower(db)

    first, second = save_times(db, 2)

    # flowerconfig.py's state_save_interval: 5 s, give or take the load on the machine.
    assert 4.5 < second - first < 6, second - first


@pytest.mark.parametrize(
    "persistent",
    [{}, {"FLOWER_PERSISTENT": "True"}],  # the stack's --persistent=True, and the post's way
    ids=["flag", "environment"],
)
def test_flower_keeps_its_tasks_across_a_clean_restart(start_flower, db, persistent):
    from tasks import add

    first = start_flower(db, persistent=not persistent, **persistent)
    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5
    flower.wait_for_state(result.id, "SUCCESS")
    assert first.stop(signal.SIGTERM) == 0

    start_flower(db, persistent=not persistent, **persistent)
    assert flower.task(result.id)["state"] == "SUCCESS"


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("interval_ms", "kept"),
    [(None, True), ("600000", False)],
    ids=["flowerconfig.py's 5 s", "no save before the kill"],
)
def test_a_killed_flower_keeps_what_it_saved_before_the_kill(start_flower, db, interval_ms, kept):
    from tasks import add

    first = start_flower(db, **({"FLOWER_STATE_SAVE_INTERVAL": interval_ms} if interval_ms else {}))
    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5
    wait_for(lambda: flower.task(result.id))
    if kept:
        wait_for(lambda: result.id in saved_tasks(db), what="a save with the task")
    first.stop(signal.SIGKILL)

    start_flower(db)
    assert (flower.task(result.id) is not None) is kept


def test_a_flower_whose_saved_state_is_unreadable_starts_empty(start_flower, db):
    from tasks import add

    first = start_flower(db)
    result = add.delay(2, 3)
    assert result.get(timeout=10) == 5
    flower.wait_for_state(result.id, "SUCCESS")
    assert first.stop(signal.SIGTERM) == 0  # a clean stop: saved
    saved = list(db.parent.glob(f"{db.name}*"))
    for path in saved:  # what a kill between two of a save's moves can leave
        path.write_bytes(b"\x00" * 64)

    second = start_flower(db)

    assert flower.task(result.id) is None
    assert "Failed to load state" in second.output()
    assert "moving it aside and starting fresh" in second.output()
    assert all(path.with_name(path.name + ".corrupt").exists() for path in saved)


def test_a_flower_without_a_login_refuses_its_api(start_flower, db, tmp_path):
    no_settings = tmp_path / "empty.py"  # the post's Flower: no flowerconfig.py, no login
    no_settings.write_text("")
    start_flower(
        db, f"--conf={no_settings}", "--address=127.0.0.1", persistent=False, FLOWER_BASIC_AUTH=None
    )

    status, body = flower.request("/api/workers", auth=None)

    assert status == 401
    assert "FLOWER_UNAUTHENTICATED_API environment variable is required" in body


def test_make_flower_runs_the_posts_persistent_flower(tmp_path):
    copy = fresh_copy(tmp_path / "copy")
    (copy / ".venv").symlink_to(ROOT / ".venv")
    flower_port = port(5559)
    process = Process(
        ["make", "-s", "-C", str(copy), "flower"],
        tmp_path / "make-flower.log",
        FLOWER_PORT=str(flower_port),  # the README's way beside the stack's Flower
        FLOWER_PERSISTENT="True",  # the post's way
    )
    try:
        url = f"http://127.0.0.1:{flower_port}"
        local = ("flower", "flower")  # flowerconfig.py's local default

        def answers():
            try:
                return flower.request("/api/workers", url=url, auth=local)[0] == 200
            except OSError:  # not listening yet
                return False

        wait_for(answers, timeout=30, what="make flower to answer")
        assert flower.request("/api/workers", url=url, auth=None)[0] == 401
    finally:
        process.stop(signal.SIGTERM)
    # The post's default place for its state: files named flower* where it runs.
    assert [p for p in copy.glob("flower*") if p.name != "flowerconfig.py"]
