"""`digest serve`'s rebuild callable: what it does around each build."""

from __future__ import annotations

import gc
import time

import pytest

from digest.commands import serve as serve_command


def test_a_rebuild_runs_without_the_collector_and_collects_and_freezes_a_moment_later(monkeypatch) -> None:
    monkeypatch.setattr(serve_command, "COLLECT_AFTER", 0.05)
    gc.unfreeze()
    assert gc.isenabled()
    try:
        with serve_command._collector_paused():
            assert not gc.isenabled()
            cycle: list = []
            cycle.append(cycle)  # cyclic garbage made during the rebuild
            del cycle
        assert gc.isenabled()
        deadline = time.monotonic() + 10
        while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gc.get_freeze_count() > 0  # the survivors were frozen after the collection

        with pytest.raises(RuntimeError):  # a failed rebuild turns the collector back on too
            with serve_command._collector_paused():
                raise RuntimeError("template error")
        assert gc.isenabled()
    finally:
        time.sleep(0.2)  # let the last timer run before unfreezing for the other tests
        gc.unfreeze()
