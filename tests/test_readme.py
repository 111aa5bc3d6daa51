"""The documents cannot drift: their REPL sessions run, their links and lists match the tree."""

import re
import subprocess

import pytest

from conftest import README_BROKER_URL, RUN, WORKER
from helpers import ROOT, Process, readme_block, run_session, sessions

CHAPTERS = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.md"))
DOCUMENTS = ["README.md", "README.ja.md", *CHAPTERS]
# Its sessions need a cluster: tests/test_cluster_make.py runs them.
ON_ONE_NODE = [document for document in DOCUMENTS if document != "docs/cluster.md"]
TESTS = set(
    re.findall(r"^def (test_\w+)", "".join(p.read_text() for p in ROOT.glob("tests/*.py")), re.M)
)


def existing(documents):
    """The documents that are in the tree."""
    return [document for document in documents if (ROOT / document).exists()]


@pytest.fixture(scope="module")
def readme_worker(broker):
    """`make worker`, the post's command, on a virtual host of its own, its add() slow
    enough (3 s) for a reader's "a moment later"; yields the broker URL for the sessions."""
    process = Process(
        ["make", "--no-print-directory", "worker"],
        RUN / "readme-worker.log",
        CELERY_BROKER_URL=README_BROKER_URL,
        ADD_SLEEP="3",
    )
    process.logged(f"{WORKER} ready.", timeout=60)
    yield README_BROKER_URL
    process.stop()


@pytest.mark.parametrize(
    "session", [s for d in existing(ON_ONE_NODE) for s in sessions(d)], ids=lambda s: s.name
)
def test_every_session_runs_as_shown(session, readme_worker):
    result = run_session(session.text, CELERY_BROKER_URL=readme_worker)
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


@pytest.mark.parametrize("document", existing(DOCUMENTS))
def test_every_test_a_document_names_exists(document):
    named = set(re.findall(r"`(test_\w+)`", (ROOT / document).read_text()))
    assert named <= TESTS, named - TESTS


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_is_linked_from_the_readme_and_names_its_tests(chapter):
    assert f"]({chapter})" in (ROOT / "README.md").read_text()
    assert re.search(r"`test_\w+`", (ROOT / chapter).read_text()), "no claim names its test"


@pytest.mark.parametrize("document", existing(DOCUMENTS))
def test_every_local_link_leads_to_a_file(document):
    text = (ROOT / document).read_text()
    for target in re.findall(r"\]\(([^):#]+)(?:#[^)]*)?\)", text):
        assert (ROOT / document).parent.joinpath(target).exists(), target


def blocks(document):
    """The fenced blocks of a document, without the comments on its `$` and `>>>` lines."""
    text = (ROOT / document).read_text()
    return [
        (kind, re.sub(r"^((?:\$|>>>) .*?)\s*#.*$", r"\1", body, flags=re.M))
        for kind, body in re.findall(r"```(\w+)\n(.*?)```", text, re.S)
    ]


def test_the_japanese_readme_shows_the_same_commands_and_sessions():
    assert "[日本語](README.ja.md)" in (ROOT / "README.md").read_text()
    assert "[English](README.md)" in (ROOT / "README.ja.md").read_text()
    assert blocks("README.ja.md") == blocks("README.md")


def test_the_readme_says_how_many_processes_the_tests_run_in():
    words = {"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
    said = re.search(r"runs pytest in (\w+) processes", (ROOT / "README.md").read_text())
    japanese = re.search(r"pytest を (\d+) つのプロセス", (ROOT / "README.ja.md").read_text())
    addopts = re.search(r"-n (\d+)", (ROOT / "pyproject.toml").read_text())

    assert words[said.group(1)] == int(japanese.group(1)) == int(addopts.group(1))
