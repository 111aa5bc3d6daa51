"""ci_skips: a skip fails the run under CI=true, and stays a skip elsewhere."""

import pytest

from helpers import ROOT

pytest_plugins = ["pytester"]

A_PATH_LEFT_UNTESTED = """
import pytest

def test_the_docker_path():
    pytest.skip("no Docker engine answers")

def test_the_native_path():
    pass
"""


@pytest.mark.parametrize(("ci", "exit_status"), [("true", 1), ("", 0)])
def test_a_skip_fails_the_run_under_ci_only(pytester, monkeypatch, ci, exit_status):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "tests"))
    pytester.makepyfile(test_paths=A_PATH_LEFT_UNTESTED)

    result = pytester.runpytest_subprocess("-p", "ci_skips", "-p", "no:cacheprovider")

    assert result.ret == exit_status
    result.assert_outcomes(passed=1, skipped=1)
    named = "test_paths.py::test_the_docker_path: Skipped: no Docker engine answers"
    assert (named in result.outlines) == bool(ci), result.outlines
