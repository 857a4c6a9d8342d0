"""serve() freezes what start-up made, so full collections stop re-scanning it."""

from __future__ import annotations

import gc

from services.common.server import freeze_startup_objects


def test_objects_alive_at_start_up_leave_the_collected_generations() -> None:
    kept = [[n] for n in range(1000)]  # container objects the collector tracks
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() >= len(kept)
        tracked = {id(o) for o in gc.get_objects()}
        assert not any(id(o) in tracked for o in kept)
        made_later = [0]
        assert gc.is_tracked(made_later) and id(made_later) in {id(o) for o in gc.get_objects()}
    finally:
        gc.unfreeze()
