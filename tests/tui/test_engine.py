"""The engine: the app's only door to the core, tested without any UI."""

from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path

import pytest
import torch
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.train.plan import TrainEvent, TrainPlan
from minigpt2.tui.engine import engine as engine_module
from minigpt2.tui.engine.engine import Engine, EngineError
from minigpt2.tui.engine.model_info import EventBatcher
from tui_helpers import slow_trainer


def event(kind: str = "progress", step: int = 1) -> TrainEvent:
    return TrainEvent(kind=kind, step=step, total_steps=10, epoch=0.1,  # type: ignore[arg-type]
                      train_loss=2.0, val_loss=None, tokens_per_s=1.0, elapsed_s=0.1,
                      remaining_s=1.0, progress=0.1)


def test_event_batcher_sends_batches_not_single_events(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("minigpt2.tui.engine.model_info.time.monotonic", lambda: clock[0])
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
        engine.sample(SampleConfig())
    assert not engine.train_state.active


def test_stop_pressed_while_the_trainer_is_built_is_not_lost(word_file: Path) -> None:
    engine = Engine(threads=1)
    engine.begin()  # Start
    engine.stop()  # as if F6 came between Start and the trainer's first step
    assert engine.train(TrainPlan(data=str(word_file), preset="seed", epochs=50), print) is None
    assert engine.info is None and engine.sampling_from is None
    # and it does not linger: the next run trains
    outcome = engine.train(TrainPlan(data=str(word_file), preset="seed", steps=5), print)
    assert outcome is not None
    result, info = outcome
    assert not result.stopped and result.steps == 5 and info.step == 5


def test_sampling_and_unknown_characters(tiny_checkpoint: Path) -> None:
    engine = Engine(threads=1)
    info = engine.load_checkpoint(tiny_checkpoint)
    assert info.preset == "tiny" and info.step == 300
    assert engine.sampling_from == ("tiny", 300)
    names = engine.sample(SampleConfig(prompt="ko", n=10, seed=3))
    assert names is not None and len(names) == 10
    assert all(c.name.startswith("ko") for c in names)
    assert names == engine.sample(SampleConfig(prompt="ko", n=10, seed=3))  # fixed seed
    with pytest.raises(EngineError) as error:
        engine.sample(SampleConfig(prompt="kö"))
    assert "'ö'" in str(error.value) and "It knows: " in str(error.value)
    assert "k" in str(error.value).split("It knows: ")[1]
    attention = engine.attention("kona")
    assert attention.tokens == ["<bos>", "k", "o", "n", "a"]
    assert engine.sample(SampleConfig(), cancelled=lambda: True) is None


def test_corrupt_checkpoint_is_an_engine_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"nonsense")
    with pytest.raises(EngineError, match="bad.safetensors"):
        Engine().load_checkpoint(path)


def test_a_checkpoint_whose_config_lies_is_an_engine_error(tiny_checkpoint: Path,
                                                           tmp_path: Path) -> None:
    """The tiny model's file claiming a 1,000-layer model: refused with the file's name,
    and the model in use stays."""
    data = tiny_checkpoint.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    config = json.loads(header["__metadata__"]["model_config"]) | {"n_layer": 1000}
    header["__metadata__"]["model_config"] = json.dumps(config)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    lying = tmp_path / "lying.safetensors"
    lying.write_bytes(len(encoded).to_bytes(8, "little") + encoded + data[8 + length :])
    engine = Engine()
    engine.load_checkpoint(tiny_checkpoint)
    with pytest.raises(EngineError, match="lying.safetensors: its config claims 1,000 layers"):
        engine.load_checkpoint(lying)
    assert engine.sample(SampleConfig(n=3, seed=0))


def train_in_background(engine: Engine, plan: TrainPlan, pause_at: int
                        ) -> tuple[threading.Thread, queue.Queue[TrainEvent]]:
    """Train on a thread; pause as soon as an event reports `pause_at` steps or more. The
    "paused" events arrive on the queue: tests wait on them, never on the clock."""
    paused: queue.Queue[TrainEvent] = queue.Queue()

    def on_events(events: list[TrainEvent]) -> None:
        for e in events:
            if e.kind == "paused":
                paused.put(e)
            elif e.step >= pause_at:
                engine.pause()

    thread = threading.Thread(target=engine.train, args=(plan, on_events), daemon=True)
    thread.start()
    return thread, paused


@pytest.mark.parametrize("speed", ["normal", "slow"])
def test_sampling_while_training_uses_the_weights_of_that_moment(
        word_file: Path, speed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if speed == "slow":  # a machine many times slower: the result must be the same
        slow_trainer(monkeypatch)
    engine = Engine(threads=1)
    plan = TrainPlan(data=str(word_file), preset="seed", steps=100_000)
    thread, paused = train_in_background(engine, plan, pause_at=3)
    first = paused.get(timeout=60)
    engine.sample(SampleConfig(prompt="k", n=3, seed=1))
    trainer = engine._trainer
    assert trainer is not None and engine.train_state.active
    assert engine.sampling_from == ("seed", first.step) == ("seed", trainer.step)
    expected = trainer.snapshot().model_state
    copied = engine._sampler.model.state_dict()  # type: ignore[union-attr]
    assert all(torch.equal(copied[k], v) for k, v in expected.items())

    # later weights, however few steps later: the next request sees them
    target = first.step + 1
    engine.resume()
    while trainer.step < target:
        time.sleep(0.001)
    engine.pause()
    second = paused.get(timeout=60)
    engine.sample(SampleConfig(prompt="k", n=3, seed=1))
    assert second.step > first.step
    assert engine.sampling_from == ("seed", second.step)
    engine.stop()
    thread.join(timeout=60)
    assert not thread.is_alive()


def test_a_young_model_gives_names_cut_at_the_limit(word_file: Path) -> None:
    engine = Engine(threads=1)
    plan = TrainPlan(data=str(word_file), preset="seed", steps=100_000)
    thread, paused = train_in_background(engine, plan, pause_at=0)  # pause at once
    paused.get(timeout=60)
    names = engine.sample(SampleConfig(prompt="ko", n=20, temperature=2.0, seed=0,
                                       include_cut=True))  # as Explore asks
    assert names, "a model that never ends its names still shows what it writes"
    assert all(c.name.startswith("ko") for c in names)
    limit = engine._sampler.max_chars  # type: ignore[union-attr]
    assert any(c.cut for c in names)
    assert all(len(c.name) == limit for c in names if c.cut)
    engine.stop()
    thread.join(timeout=60)


def test_pause_pressed_while_the_trainer_is_built_is_kept(word_file: Path) -> None:
    engine = Engine(threads=1)
    engine.begin()  # Start
    engine.pause()  # as if F5 twice: Start, then Pause before the first step
    thread, paused = train_in_background(engine, TrainPlan(data=str(word_file), preset="seed",
                                                           steps=100_000), pause_at=10**9)
    first = paused.get(timeout=60)
    assert first.step == 0  # the loop paused before its first step
    trainer = engine._trainer
    assert trainer is not None and trainer.paused and trainer.step == 0
    engine.stop()
    thread.join(timeout=60)
    assert not thread.is_alive()


def test_saving_while_training_saves_the_weights_of_that_moment(word_file: Path,
                                                                tmp_path: Path) -> None:
    from minigpt2.core.checkpoint import load_checkpoint

    engine = Engine(threads=1)
    thread, paused = train_in_background(engine, TrainPlan(data=str(word_file), preset="seed",
                                                           steps=100_000), pause_at=5)
    at = paused.get(timeout=60)
    path = tmp_path / "mid-run.safetensors"
    assert engine.save_checkpoint(path) == at.step
    saved = load_checkpoint(path)
    trainer = engine._trainer
    assert trainer is not None and saved.step == trainer.step == at.step
    live = trainer.snapshot().model_state
    assert all(torch.equal(saved.model_state[k], v) for k, v in live.items())
    assert saved.optimizer_state is not None  # a run that can be resumed
    with pytest.raises(EngineError, match=r"end in \.safetensors"):
        engine.save_checkpoint(tmp_path / "mid-run.pt")
    assert not (tmp_path / "mid-run.pt").exists()
    engine.stop()
    thread.join(timeout=60)


def test_continue_trains_the_current_model_further(tiny_checkpoint: Path) -> None:
    engine = Engine(threads=1)
    engine.load_checkpoint(tiny_checkpoint)  # step 300
    outcome = engine.train(TrainPlan(steps=310), print, continue_current=True)
    assert outcome is not None
    result, info = outcome
    assert result.steps == 310 and info.step == 310 and info.preset == "tiny"


def test_training_waits_between_steps_for_a_sampling_request(
        word_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the user waits on names, the trainer takes no step (a bounded wait: here long)."""
    monkeypatch.setattr(engine_module, "YIELD_TO_SAMPLING_S", 60.0)
    engine = Engine(threads=1)
    held, release, trainer_waits = threading.Event(), threading.Event(), threading.Event()
    released_when_it_went_on: list[bool] = []

    def request() -> None:  # a sampling request, holding on for as long as the test says
        with engine._sampling:
            held.set()
            release.wait(timeout=60)

    yield_to_sampling = engine._yield_to_sampling

    def watched() -> None:
        trainer_waits.set()
        yield_to_sampling()
        released_when_it_went_on.append(release.is_set())

    engine._yield_to_sampling = watched  # type: ignore[method-assign]
    sampler = threading.Thread(target=request)
    sampler.start()
    held.wait(timeout=60)
    plan = TrainPlan(data=str(word_file), preset="seed", steps=5)
    trainer = threading.Thread(target=engine.train, args=(plan, lambda events: None))
    trainer.start()
    trainer_waits.wait(timeout=60)
    release.set()
    sampler.join(timeout=60)
    trainer.join(timeout=60)
    assert released_when_it_went_on == [True] * 5  # the first step came after the request
    assert engine.info is not None and engine.info.step == 5


def test_the_trainer_calls_its_hook_before_every_step(word_file: Path) -> None:
    from minigpt2.core.train.build import build_trainer

    trainer = build_trainer(TrainPlan(data=str(word_file), preset="seed", steps=7, threads=1))
    seen: list[int] = []
    trainer.between_steps = lambda: seen.append(trainer.step)
    trainer.run()
    assert seen == list(range(7))
