"""Importing the training libraries with the cyclic garbage collector paused, then frozen."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from engine.training import warm


@pytest.fixture
def gc_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()  # give the rest of the test session its ordinary collector back
    (gc.enable if enabled else gc.disable)()


def test_collection_is_paused_inside_nested_blocks_and_resumes_after(gc_restored: None) -> None:
    gc.enable()
    with warm.paused_gc():
        assert not gc.isenabled()
        with warm.paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still holds it
    assert gc.isenabled()


def test_a_collector_already_off_stays_off(gc_restored: None) -> None:
    gc.disable()
    with warm.paused_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_importing_the_training_libraries_freezes_what_they_created(
    gc_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warm, "_imported", False)
    gc.enable()
    gc.unfreeze()
    warm.import_training_libraries()
    assert all(name in sys.modules for name in warm.TRAINING_MODULES)
    assert gc.get_freeze_count() > 0 and gc.isenabled()
    frozen = gc.get_freeze_count()
    warm.import_training_libraries()  # once done, a no-op
    assert gc.get_freeze_count() == frozen
