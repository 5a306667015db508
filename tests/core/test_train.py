from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from minigpt2.core.config import ModelConfig, TrainConfig, get_preset
from minigpt2.core.data import WordData
from minigpt2.core.train import Trainer
from minigpt2.core.training import TrainEvent, TrainPlan, build_trainer


def test_loss_decreases_on_the_builtin_data(device: str) -> None:
    data = WordData.from_source("seed")
    preset = get_preset("seed")
    before = Trainer(data, preset.model, TrainConfig(steps=1, threads=1, device=device)).run()
    after = Trainer(data, preset.model, TrainConfig(epochs=3, threads=1, device=device)).run()
    assert after.val_loss is not None and before.val_loss is not None
    assert after.val_loss < before.val_loss - 0.5
    assert after.train_loss < before.train_loss - 0.5


def test_events_report_progress_and_evaluations(
    data: WordData, tiny: ModelConfig, device: str
) -> None:
    events: list[TrainEvent] = []
    config = TrainConfig(
        epochs=4, batch_size=8, event_interval_s=0.0, sample_interval_s=0.0, device=device
    )
    result = Trainer(data, tiny, config, events.append).run()
    kinds = [e.kind for e in events]
    assert kinds.count("eval") == 4 and kinds[-1] == "done"
    progress = [e for e in events if e.kind == "progress"]
    assert [e.step for e in progress] == list(range(1, result.steps + 1))
    assert all(e.train_loss is not None and e.train_loss > 0 for e in progress)
    assert events[-1].progress == 1.0 and result.steps == 4 * 6  # 48 words / batch 8


def test_pause_and_stop_from_another_thread(data: WordData, tiny: ModelConfig, device: str) -> None:
    events: list[TrainEvent] = []
    paused = threading.Event()

    def on_event(event: TrainEvent) -> None:
        events.append(event)
        if event.kind == "paused":
            paused.set()

    trainer = Trainer(data, tiny, TrainConfig(epochs=None, steps=10**9, device=device), on_event)
    worker = threading.Thread(target=trainer.run)
    worker.start()
    trainer.pause()
    assert paused.wait(10)
    step = trainer.step
    worker.join(0.3)
    assert worker.is_alive() and trainer.step == step  # really paused
    trainer.resume()
    trainer.stop()
    worker.join(10)
    assert not worker.is_alive()
    assert events[-1].kind == "done"


def test_time_budget_ends_the_run(data: WordData, tiny: ModelConfig, device: str) -> None:
    result = Trainer(data, tiny, TrainConfig(epochs=None, time_budget_s=0.5, device=device)).run()
    assert 0.5 <= result.wall_s < 5 and result.steps > 0


def test_resume_continues_the_loss_curve(
    tmp_path: Path, data: WordData, tiny: ModelConfig, device: str
) -> None:
    config = TrainConfig(epochs=None, steps=30, batch_size=8, lr=3e-3, device=device)
    straight = Trainer(data, tiny, config)
    straight.run()

    first = Trainer(
        data, tiny, TrainConfig(epochs=None, steps=13, batch_size=8, lr=3e-3, device=device)
    )
    first.run()
    first.save(tmp_path / "half.safetensors")
    resumed = Trainer.from_checkpoint(tmp_path / "half.safetensors", config)
    assert resumed.step == 13
    resumed.run()

    assert resumed.step == 30
    for name, weight in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], weight)


def test_snapshot_sampler_is_independent_of_training(
    data: WordData, tiny: ModelConfig, device: str
) -> None:
    trainer = Trainer(data, tiny, TrainConfig(epochs=1, batch_size=8, device=device))
    sampler = trainer.snapshot_sampler()
    before = sampler.model.state_dict()["tok_emb.weight"].clone()
    trainer.run()
    torch.testing.assert_close(sampler.model.state_dict()["tok_emb.weight"], before)


def test_unknown_device_is_a_clear_error(data: WordData, tiny: ModelConfig) -> None:
    with pytest.raises(ValueError, match="unknown device"):
        Trainer(data, tiny, TrainConfig(device="tpu"))


def test_sampling_during_training_does_not_change_the_run(
    data: WordData, tiny: ModelConfig, device: str
) -> None:
    dropout = replace(tiny, dropout=0.2)  # dropout draws from the global RNG
    weights = []
    for interval in (0.0, 1e-9):  # never, then at every step
        config = TrainConfig(epochs=2, batch_size=8, sample_interval_s=interval, device=device)
        trainer = Trainer(data, dropout, config, on_event=lambda event: None)
        trainer.run()
        weights.append(trainer.model.state_dict()["tok_emb.weight"])
    torch.testing.assert_close(weights[0], weights[1])


def test_a_stop_before_run_ends_the_run_at_once(
    data: WordData, tiny: ModelConfig, device: str
) -> None:
    trainer = Trainer(data, tiny, TrainConfig(epochs=5, batch_size=8, device=device))
    trainer.stop()
    assert trainer.run().steps == 0
    assert trainer.run().steps == 5 * 6  # the stop was used up by the first run


def test_history_is_reproducible_whatever_the_event_timing(
    data: WordData, tiny: ModelConfig, device: str
) -> None:
    histories = []
    for interval in (0.0, 1e9):
        config = TrainConfig(epochs=3, batch_size=8, event_interval_s=interval, device=device)
        trainer = Trainer(data, tiny, config, on_event=lambda event: None)
        trainer.run()
        histories.append(trainer.history)
    assert histories[0] == histories[1]


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_cuda_graph_steps_match_eager_steps(
    tmp_path: Path, data: WordData, tiny: ModelConfig, device: str, schedule: str
) -> None:
    if not device.startswith("cuda"):
        pytest.skip("CUDA graphs need --device cuda")
    config = TrainConfig(
        epochs=3,
        batch_size=7,
        lr=3e-3,
        lr_schedule=schedule,
        warmup_steps=5,
        grad_clip=1.0,
        device=device,
    )  # batch 7: a short last batch
    eager = Trainer(data, tiny, replace(config, cuda_graphs=False))
    eager.run()
    graphed = Trainer(data, tiny, config)
    graphed.run()
    assert graphed._graphed is not None and graphed._graphed.graph is not None
    for name, weight in eager.model.state_dict().items():
        torch.testing.assert_close(graphed.model.state_dict()[name], weight, atol=2e-4, rtol=1e-3)
    graphed.save(tmp_path / "graphed.safetensors")  # a tensor lr must not reach the metadata
    resumed = Trainer.from_checkpoint(tmp_path / "graphed.safetensors", replace(config, epochs=4))
    assert resumed.run().steps == 4 * 7


def test_a_plan_bound_replaces_the_presets_bounds(words_file: Path) -> None:
    trainer = build_trainer(TrainPlan(data=str(words_file), preset="default", steps=7,
                                      batch_size=8, threads=1))
    config = trainer.config
    assert (config.epochs, config.steps, config.time_budget_s) == (None, 7, None)
    assert (config.batch_size, config.lr) == (8, get_preset("default").train.lr)
    assert trainer.total_steps == 7 and trainer.preset == "default"


@pytest.mark.parametrize("conflict", [{"data": "animals"}, {"val_data": "x.txt"},
                                      {"preset": "seed"}, {"keep_case": True}])
def test_resuming_refuses_options_that_would_change_the_run(
    trained_path: Path, conflict: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match="a resumed run keeps its own"):
        build_trainer(TrainPlan(resume=trained_path, **conflict))  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"steps": -1}, {"batch_size": 0},
                                 {"threads": 0}, {"lr": 0.0}, {"lr": float("nan")},
                                 {"time_budget_s": float("inf")}, {"seed": -1},
                                 {"epochs": 2, "steps": 3}])
def test_a_plan_refuses_numbers_out_of_range(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must|one of"):
        TrainPlan(**bad)  # type: ignore[arg-type]
