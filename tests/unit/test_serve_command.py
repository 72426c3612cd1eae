"""`digest serve`'s rebuild callable: what it does around each build."""

from __future__ import annotations

import gc
import weakref

import pytest

from digest.commands import serve as serve_command


class _Node:
    pass


def test_rebuild_survivors_are_frozen_and_frozen_garbage_is_reclaimed_by_the_periodic_full_collection(monkeypatch) -> None:
    monkeypatch.setattr(serve_command, "FULL_COLLECTION_EVERY", 3)
    monkeypatch.setattr(serve_command, "_rebuilds", 0)
    try:
        with serve_command._survivors_frozen():
            assert not gc.isenabled()
            node = _Node()
            node.self = node  # a cycle that is alive at the end of the rebuild: frozen with the site
        assert gc.isenabled() and gc.get_freeze_count() > 0
        gone = weakref.ref(node)
        del node  # now cyclic garbage, but frozen: the collections of the next rebuilds skip it
        with serve_command._survivors_frozen():
            pass
        assert gone() is not None
        with pytest.raises(RuntimeError):  # a failed rebuild counts, and the third one collects in full
            with serve_command._survivors_frozen():
                raise RuntimeError("template error")
        assert gone() is None
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
