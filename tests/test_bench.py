"""`make bench QUICK=1` on the tests' broker: it runs and reports sane numbers, never a speed;
and docs/how-fast.md shows every profile it measures, with its price."""

import re
import subprocess

import pytest
from amqp.exceptions import NotFound

from bench.__main__ import QUICK_PROFILES
from bench.profiles import PROFILES
from helpers import ROOT


def table(output):
    """The Markdown table's rows: {profile: its cells}."""
    rows = {}
    for line in output.splitlines():
        if line.startswith("| ") and not line.startswith(("| profile ", "| -")):
            name, *cells = (cell.strip() for cell in line.strip(" |").split("|"))
            rows[name] = cells
    return rows


@pytest.mark.timeout(180)
def test_the_quick_benchmark_reports_every_figure_and_draws_a_chart(app, worker):
    chart, committed = ROOT / ".run" / "bench.png", ROOT / "docs" / "bench.png"
    chart.unlink(missing_ok=True)
    before = committed.read_bytes()

    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "bench", "QUICK=1"],
        cwd=ROOT, capture_output=True, text=True, timeout=170,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-2000:]
    assert "bench: the floor: py-amqp round trips and pipelined requests..." in result.stderr
    rows = table(result.stdout)
    floor = rows["floor (py-amqp)"]  # p50, p99 and pipelined messages per second
    assert all(float(cell) > 0 for cell in floor[:3]) and floor[-1] == "1.00"
    for name in QUICK_PROFILES:
        *figures, limited_by, ratio = rows[name]
        assert all(float(cell) > 0 for cell in figures) and float(ratio) > 0, name
        assert limited_by in ("client", "worker"), name
    assert [float(r[2]) > 0 for name, r in rows.items() if name.endswith(", 2 workers")] == [True]
    out = result.stdout
    assert re.search(r"^worker memory: tutorial \d+ MB at rest, \d+ MB under load; ", out, re.M)
    assert re.search(r"^  [\d.]+x the tutorial's \d+, [\d.]+ of the floor's \d+ msg/s$", out, re.M)
    publish = r"^client publishing, reply queue declared once: \d+ tasks/s, [\d.]+x stock's \d+$"
    assert re.search(publish, out, re.M)
    limit = r"^what limits it: the (client|worker): alone, the client publishes and reads \d+ "
    assert re.search(limit + r"tasks/s, the worker drains \d+; together \d+,$", out, re.M)
    assert re.search(r"^  client ran [\d.]+, waited [\d.]+; broker ", out, re.M)
    for name in QUICK_PROFILES:
        assert f"\n  {name}: {PROFILES[name].price}\n" in out
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert "\nchart: .run/bench.png\n" in out
    assert committed.read_bytes() == before  # retaken only when asked (CHART=docs/bench.png)
    # It leaves the broker and the stack as it found them.
    with app.connection_for_write() as connection, pytest.raises(NotFound):
        connection.default_channel.queue_declare("bench", passive=True)
    assert app.control.ping(timeout=2)


@pytest.mark.parametrize("name", PROFILES)
def test_the_chapter_shows_each_profile_with_its_price(name):
    chapter = (ROOT / "docs" / "how-fast.md").read_text()

    assert f"| {name} |" in chapter
    assert PROFILES[name].price in " ".join(chapter.split())
