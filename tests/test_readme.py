"""The README cannot drift: its REPL sessions run, its lists match the tree."""

import re
import subprocess

import pytest

from helpers import ROOT, readme_block, readme_sessions, run_session
from test_monitor import STATUS

README = (ROOT / "README.md").read_text()


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("session", readme_sessions(), ids=lambda s: s.name)
def test_readme_session_runs_as_shown(session):
    result = run_session(session.text)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_session_runner_fails_on_a_wrong_output():
    assert run_session(">>> 1 + 1\n3\n").returncode == 1


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
