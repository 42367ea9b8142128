"""The server freezes what start-up built, so full collections skip it; what comes later is collected as before."""

import gc
import weakref

from portal import startup_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_freezing_keeps_what_start_up_built_out_of_collections_and_still_collects_later_garbage():
    kept = _Node()
    try:
        startup_heap.freeze()
        assert gc.get_freeze_count() > 0
        assert not any(obj is kept for obj in gc.get_objects(generation=2))  # frozen: not walked any more
        later = _Node()
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None  # a cycle made after start-up is still freed
    finally:
        gc.unfreeze()
