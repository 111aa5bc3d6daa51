"""Under CI=true a skipped test fails the run, naming each one and why: CI sets up every
path (.ci/run), so a skip there is a path left untested, such as a Docker engine that did
not start. Elsewhere a skip stays a skip, with its one-line reason."""

import os

import pytest

skipped = []


def pytest_runtest_logreport(report):
    """Keep every skip (the main process hears those of every test process)."""
    if report.skipped and not hasattr(report, "wasxfail"):
        skipped.append(report)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """Fail the run under CI=true if anything was skipped, and say what and why."""
    if os.environ.get("CI") != "true" or not skipped or hasattr(session.config, "workerinput"):
        return
    if session.exitstatus != pytest.ExitCode.OK:
        return  # already failed or stopped: say nothing over it
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    terminal.write_sep("=", f"CI=true: {len(skipped)} skipped, and a skip fails CI", red=True)
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        terminal.write_line(f"{report.nodeid}: {reason}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
