"""`make bench QUICK=1` on the tests' broker: it runs and reports sane numbers, never a speed."""

import re
import subprocess

import pytest
from amqp.exceptions import NotFound

from helpers import ROOT

ROW = re.compile(r"^(?P<figure>.+?)\s{2,}(?P<value>[\d.]+) (?:ms|msg/s|tasks/s|MB)\b")


@pytest.mark.timeout(180)
def test_the_quick_benchmark_reports_every_figure_and_draws_a_chart(app, worker, tmp_path):
    chart = tmp_path / "bench.png"

    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "bench", "QUICK=1", f"CHART={chart}"],
        cwd=ROOT, capture_output=True, text=True, timeout=170,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-2000:]
    assert "bench: the floor: py-amqp round trips and pipelined requests..." in result.stderr
    rows = {m["figure"]: float(m["value"]) for m in map(ROW.match, result.stdout.splitlines()) if m}
    for figure in (
        "floor: round trip p50",
        "floor: pipelined",
        "tutorial: round trip p99",
        "tutorial: throughput",
        "tutorial: client publishing alone",
        "tutorial worker memory at rest",
    ):
        assert rows.get(figure, 0) > 0, figure
    assert any(figure.endswith("2 processes: throughput") for figure in rows)
    assert re.search(r"^what limits it: the (publishing client|worker)$", result.stdout, re.M)
    rates = r"^  \(publishing alone \d+ tasks/s, the whole run \d+\)$"
    assert re.search(rates, result.stdout, re.M)
    assert chart.read_bytes().startswith(b"\x89PNG")
    # It leaves the broker and the stack as it found them.
    with app.connection_for_write() as connection, pytest.raises(NotFound):
        connection.default_channel.queue_declare("bench", passive=True)
    assert app.control.ping(timeout=2)
