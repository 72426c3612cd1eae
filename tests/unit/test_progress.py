"""The progress bar and the per-stage timings of `digest build`."""

from __future__ import annotations

import io

from digest.progress import ProgressBar, Stages, format_timings


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bar_draws_throttled_and_always_draws_the_end() -> None:
    out, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(out, clock=clock, interval=0.1, width=10)
    bar("parsing stories", 0, 4)
    bar("parsing stories", 1, 4)  # same instant: skipped
    clock.now = 0.2
    bar("parsing stories", 2, 4)
    bar("parsing stories", 4, 4)  # the end is drawn even within the interval
    frames = out.getvalue().split("\r")[1:]
    assert [f.split("] ")[1].strip() for f in frames] == ["0/4", "2/4", "4/4"]
    assert "[#####.....]" in frames[1] and "[##########]" in frames[2]
    bar.close()
    assert out.getvalue().endswith("\r" + " " * 72 + "\r")


def test_closing_a_bar_that_never_drew_writes_nothing() -> None:
    out = io.StringIO()
    ProgressBar(out).close()
    assert out.getvalue() == ""


def test_stages_add_up_in_order_and_format_with_the_rest() -> None:
    clock = FakeClock()
    stages = Stages(clock=clock)
    for name, seconds in (("parse", 1.0), ("render", 2.5), ("parse", 0.5)):
        with stages.stage(name):
            clock.now += seconds
    assert stages.spent() == (("parse", 1.5), ("render", 2.5))
    table = format_timings(stages.spent(), total=5.0)
    assert table.splitlines() == ["timings:", "  parse     1.500s   30.0%", "  render    2.500s   50.0%",
                                  "  other     1.000s   20.0%", "  total     5.000s"]
