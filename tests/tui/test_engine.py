"""The engine: the app's only door to the core, tested without any UI."""

from __future__ import annotations

from pathlib import Path

import pytest
from minigpt2.core.training import TrainEvent, TrainPlan
from minigpt2.tui.engine import (
    Engine,
    EngineError,
    EventBatcher,
    SampleRequest,
    UnknownCharacters,
)


def event(kind: str = "progress", step: int = 1) -> TrainEvent:
    return TrainEvent(kind=kind, step=step, total_steps=10, epoch=0.1,  # type: ignore[arg-type]
                      train_loss=2.0, val_loss=None, tokens_per_s=1.0, elapsed_s=0.1,
                      remaining_s=1.0, progress=0.1)


def test_event_batcher_sends_batches_not_single_events(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("minigpt2.tui.engine.time.monotonic", lambda: clock[0])
    batches: list[list[TrainEvent]] = []
    batcher = EventBatcher(batches.append, interval_s=0.2)
    batcher(event(step=1))  # the first one goes at once: the UI shows training has begun
    for step in range(2, 6):
        clock[0] += 0.01
        batcher(event(step=step))
    assert [len(b) for b in batches] == [1]  # four progress events wait for the interval
    clock[0] += 0.2
    batcher(event(step=6))
    assert [e.step for e in batches[-1]] == [2, 3, 4, 5, 6]  # none dropped, in order
    batcher(event("paused", step=6))  # a change of state does not wait
    assert batches[-1][-1].kind == "paused"
    batcher.flush()
    assert sum(len(b) for b in batches) == 7


def test_bad_data_and_preset_are_engine_errors(tmp_path: Path) -> None:
    engine = Engine(threads=1)
    with pytest.raises(EngineError, match="nope.txt"):
        engine.train(TrainPlan(data=str(tmp_path / "nope.txt"), preset="seed"), print)
    with pytest.raises(EngineError, match="unknown preset"):
        engine.train(TrainPlan(preset="huge"), print)
    with pytest.raises(EngineError, match="No model yet"):
        engine.sample(SampleRequest())
    assert not engine.training


def test_stop_pressed_while_the_trainer_is_built_is_not_lost(word_file: Path) -> None:
    engine = Engine(threads=1)
    engine.stop()  # as if F6 came between Start and the trainer's first step
    outcome = engine.train(TrainPlan(data=str(word_file), preset="seed", epochs=50), print)
    assert outcome.stopped and outcome.steps == 0 and outcome.info is None
    assert not engine.has_model
    # and it does not linger: the next run trains
    outcome = engine.train(TrainPlan(data=str(word_file), preset="seed", steps=5), print)
    assert not outcome.stopped and outcome.steps == 5


def test_sampling_and_unknown_characters(tiny_checkpoint: Path) -> None:
    engine = Engine(threads=1)
    info = engine.load_checkpoint(tiny_checkpoint)
    assert info.preset == "tiny" and info.step == 300
    assert engine.sampling_from == ("tiny", 300)
    names = engine.sample(SampleRequest(prompt="ko", n=10, seed=3))
    assert names is not None and len(names) == 10
    assert all(c.name.startswith("ko") for c in names)
    assert names == engine.sample(SampleRequest(prompt="ko", n=10, seed=3))  # fixed seed
    with pytest.raises(UnknownCharacters) as info_:
        engine.sample(SampleRequest(prompt="kö"))
    assert info_.value.chars == ["ö"] and "k" in info_.value.known
    assert "'ö'" in str(info_.value)
    attention = engine.attention("kona")
    assert attention.tokens == ["<bos>", "k", "o", "n", "a"]
    assert engine.sample(SampleRequest(), cancelled=lambda: True) is None


def test_corrupt_checkpoint_is_an_engine_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"nonsense")
    with pytest.raises(EngineError, match="bad.safetensors"):
        Engine().load_checkpoint(path)
