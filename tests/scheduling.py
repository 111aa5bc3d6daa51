"""How the tests go out to the test processes (pytest-xdist): each process takes a
whole scope at a time, a file or all of the spare node's tests, the next one as soon as
only the last test of its scope is left (which it holds until it knows what comes next),
in collection order, which this module sets: the slowest scope of the last run first.

A scheduler of its own, through xdist's documented hook and scheduler protocol:
`--dist loadgroup` would do the grouping, but does nothing on pytest 9.2 (see
docs/upstream/xdist-loadgroup.md), and subclassing LoadFileScheduling means its
private methods.
"""

import pytest
from xdist.workermanage import parse_tx_spec_config

from helpers import ROOT

# The tests that use the spare node (whole files, or single tests): one test process
# runs them, one after the other, so that a run boots one spare node, not one a process.
SPARE_TESTS = (
    "tests/test_broker_restart.py::",
    "tests/test_rpc_declare_once.py::test_after_a_broker_restart_the_first_task_declares_again",
    "tests/test_second_host.py::",
)
SPARE_SCOPE = "the spare node's tests"


def scope(nodeid):
    """What a test process takes at once: the test's file, or all of SPARE_TESTS."""
    return SPARE_SCOPE if nodeid.startswith(SPARE_TESTS) else nodeid.split("::")[0]


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
    """Once per run, in the main process: keep each scope's seconds for the next run."""
    cache = getattr(session.config, "cache", None)
    if hasattr(session.config, "workerinput") or not cache or not scope_seconds:
        return
    option = session.config.option
    if option.keyword or option.markexpr or any("::" in arg for arg in session.config.args):
        return  # a part of some scope ran: its seconds would say it is quick
    seconds = {**cache.get(DURATIONS, {}), **scope_seconds}
    kept = {k: s for k, s in seconds.items() if k == SPARE_SCOPE or (ROOT / k).exists()}
    cache.set(DURATIONS, kept)


class ScopeScheduling:
    """xdist's Scheduling protocol: whole scopes, to whichever process is free first."""

    def __init__(self, config):
        self.expected = len(parse_tx_spec_config(config))
        self.collection = None  # the test ids, as every process collected them
        self.collected = 0
        self.pending = {}  # process: the indices of its tests not yet complete
        self.queue = None  # the scopes not sent yet, each a list of indices

    @property
    def nodes(self):
        return list(self.pending)

    @property
    def collection_is_completed(self):
        return self.collected >= self.expected

    @property
    def tests_finished(self):
        return self.queue == [] and not any(self.pending.values())

    @property
    def has_pending(self):
        return bool(self.queue) or any(self.pending.values())

    def add_node(self, node):
        self.pending[node] = []

    def add_node_collection(self, node, collection):
        if self.collection is None:
            self.collection = list(collection)
        elif list(collection) != self.collection:
            raise RuntimeError(f"{node.gateway.id} collected other tests than the others")
        self.collected += 1

    def schedule(self):
        if self.queue is None:
            scopes = {}
            for index, nodeid in enumerate(self.collection):
                scopes.setdefault(scope(nodeid), []).append(index)
            self.queue = list(scopes.values())
        for node in self.nodes:
            self.feed(node)

    def feed(self, node):
        """Send node scopes until it holds more than its last test (which a test process
        runs only once it knows what comes next); with none left, let it go."""
        if node.shutting_down:
            return
        while len(self.pending[node]) <= 1:
            if not self.queue:
                node.shutdown()
                return
            indices = self.queue.pop(0)
            self.pending[node] += indices
            node.send_runtest_some(indices)

    def mark_test_complete(self, node, item_index, duration=0):
        self.pending[node].remove(item_index)
        self.feed(node)

    def mark_test_pending(self, item):
        self.queue.insert(0, [self.collection.index(item)])

    def remove_pending_tests_from_node(self, node, indices):
        raise NotImplementedError("only --dist worksteal takes tests back")

    def remove_node(self, node):
        """Forget node; return the test it died in, if any (the rest go out again)."""
        pending = self.pending.pop(node)
        if not pending:
            return None
        if pending[1:]:
            self.queue.insert(0, pending[1:])
            for other in self.nodes:
                self.feed(other)
        return self.collection[pending[0]]


def pytest_xdist_make_scheduler(config, log):
    """Send out the tests by scope() (pyproject.toml asks for --dist loadfile)."""
    if config.getvalue("dist") == "loadfile":
        return ScopeScheduling(config)
    return None
