"""The README cannot drift: its REPL sessions run, its lists match the tree."""

import re
import subprocess

import pytest

from helpers import PYTHON, ROOT, readme_block
from test_monitor import STATUS

README = (ROOT / "README.md").read_text()
SESSIONS = re.findall(r"```pycon\n(.*?)```", README, re.S)


def run_session(session):
    """Run a REPL session with tests/pycon.py in a fresh interpreter."""
    return subprocess.run(
        [PYTHON, "tests/pycon.py"],
        input=session,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("session", SESSIONS, ids=[f"session{i + 1}" for i in range(len(SESSIONS))])
def test_readme_session_runs_as_shown(session):
    result = run_session(session)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_session_runner_fails_on_a_wrong_output():
    assert run_session(">>> 1 + 1\n3\n").returncode == 1


def test_the_readme_has_every_tutorial_session():
    assert len(SESSIONS) == 4


def test_make_help_is_the_readme_list_of_targets():
    result = subprocess.run(
        ["make", "--no-print-directory"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.stdout == readme_block("## Make targets")


def test_the_readme_shows_add_as_tasks_py_defines_it():
    assert readme_block("### 1. The task", "python") in (ROOT / "tasks.py").read_text()


def test_the_readme_monitor_output_is_what_monitor_prints():
    lines = readme_block("### 6. Watch every state change").splitlines()
    assert [STATUS.match(line)[1] for line in lines] == [
        "PENDING",
        "RECEIVED",
        "STARTED",
        "SUCCESS",
    ]


def test_every_test_the_readme_names_exists():
    defined = set(
        re.findall(
            r"^def (test_\w+)", "".join(p.read_text() for p in (ROOT / "tests").glob("*.py")), re.M
        )
    )
    named = set(re.findall(r"`(test_\w+)`", README))
    assert named and named <= defined, named - defined
