"""docs/upstream/xdist-loadgroup.md: the reproduction, as the page shows it."""

import re

from helpers import ROOT

pytest_plugins = ["pytester"]


def test_loadgroup_groups_nothing_on_this_pytest(pytester):
    page = (ROOT / "docs" / "upstream" / "xdist-loadgroup.md").read_text()
    pytester.makepyfile(test_x=re.search(r"```python\n(.*?)```", page, re.S)[1])

    result = pytester.runpytest_subprocess(
        "-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(passed=2)
    ran = [line for line in result.outlines if " PASSED test_x.py::" in line]
    assert len(ran) == 2
    assert not any("@g" in line for line in ran), "loadgroup works now: tests/scheduling.py can go"
