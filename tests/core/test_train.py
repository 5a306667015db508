from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from minigpt2.core.checkpoint import load_checkpoint
from minigpt2.core.config import DEFAULT_PRESET, ModelConfig, TrainConfig, get_preset, resolve_auto
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.vocab import Vocab
from minigpt2.core.model import MiniGPT2
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train import trainer as train_module
from minigpt2.core.train.build import build_trainer
from minigpt2.core.train.evaluate import evaluate, evaluate_words
from minigpt2.core.train.plan import TrainEvent, TrainPlan, chosen_preset
from minigpt2.core.train.schedule import RunBounds, lr_at
from minigpt2.core.train.trainer import Trainer


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
    assert [e.epoch for e in progress] == [step / 6 for step in range(1, 4 * 6 + 1)]


def test_names_as_it_learns_come_every_few_steps_if_sooner_than_their_interval(
    data: WordData, tiny: ModelConfig, device: str
) -> None:
    """A fast run: the interval (a day) never runs out, the step count does."""
    events: list[TrainEvent] = []
    config = TrainConfig(steps=20, batch_size=8, sample_interval_s=86_400.0, device=device)
    trainer = Trainer(data, tiny, config, events.append)
    trainer.sample_interval_steps = 6
    trainer.run()
    samples = [e for e in events if e.kind == "samples"]
    assert [e.step for e in samples] == [6, 12, 18] and all(e.samples for e in samples)


def test_pause_resume_and_stop_from_another_thread(
    data: WordData, tiny: ModelConfig, device: str
) -> None:
    events: list[TrainEvent] = []
    paused, resumed = threading.Event(), threading.Event()
    steps_after_resume: list[int] = []

    def on_event(event: TrainEvent) -> None:
        events.append(event)
        if event.kind == "paused":
            paused.set()
        if event.kind == "resumed":
            resumed.set()
        if resumed.is_set() and event.kind == "progress":
            steps_after_resume.append(event.step)

    config = TrainConfig(epochs=None, steps=10**9, event_interval_s=0.0, device=device)
    trainer = Trainer(data, tiny, config, on_event)
    # A daemon, stopped whatever happens: a failing check must not leave the process
    # waiting at exit for a paused loop.
    worker = threading.Thread(target=trainer.run, daemon=True)
    worker.start()
    try:
        trainer.pause()
        assert paused.wait(10)
        step = trainer.step
        worker.join(0.3)
        assert worker.is_alive() and trainer.step == step  # really paused
        trainer.resume()  # alone: a resume that does nothing leaves the loop asleep
        assert resumed.wait(10)
        while len(steps_after_resume) < 3 and worker.is_alive():
            worker.join(0.01)
    finally:
        trainer.stop()
    worker.join(10)
    assert not worker.is_alive()
    assert steps_after_resume[:3] == [step + 1, step + 2, step + 3]
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


def test_the_loss_is_the_mean_of_the_samplers_log_probabilities(
    trained_path: Path,
) -> None:
    """An independent computation: each word's log-probability from `score`, summed, over the
    number of predicted tokens (characters and the end token)."""
    sampler = Sampler.from_checkpoint(trained_path)
    words = ["cat", "banana", "mango", "kiwi", "dolphin"]
    loss, tokens = evaluate_words(sampler.model, sampler.vocab, words)
    logprob = sum(sampler.score(w).logprob for w in words)
    assert tokens == sum(len(w) + 1 for w in words)
    assert loss == pytest.approx(-logprob / tokens, rel=1e-4)


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


def test_a_plan_trains_on_words_already_split_when_given_them(trained_path: Path) -> None:
    # a benchmark's own split, duplicates kept: the words are used as given, not re-split
    train, val = ["anna", "bob", "anna", "cy"], ["anna", "dee"]
    trainer = build_trainer(TrainPlan(steps=2, threads=1), data=WordData.from_words(train, val))
    assert (trainer.data.train_words, trainer.data.val_words) == (train, val)
    assert trainer.model_config.vocab_size == len("abcdenoy") + 3
    with pytest.raises(ValueError, match="drop the words given"):
        build_trainer(TrainPlan(resume=trained_path), data=trainer.data)


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"steps": -1}, {"batch_size": 0},
                                 {"threads": 0}, {"lr": 0.0}, {"lr": float("nan")},
                                 {"time_budget_s": float("inf")}, {"seed": -1},
                                 {"epochs": 2, "steps": 3}])
def test_a_plan_refuses_numbers_out_of_range(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must|one of"):
        TrainPlan(**bad)  # type: ignore[arg-type]


# --- schedule, best weights, exact resume, auto ------------------------------------------


def test_the_rate_under_a_time_budget_follows_the_fraction_used() -> None:
    config = TrainConfig(epochs=None, time_budget_s=30.0, lr=2e-3, lr_schedule="cosine",
                         warmup_steps=10)
    bounds = RunBounds(config, steps_per_epoch=50)
    assert bounds.lr(step=0, elapsed_s=0.0) == pytest.approx(2e-4)  # warming up: 1/10
    assert bounds.lr(step=10, elapsed_s=0.0) == pytest.approx(2e-3)  # 0%: the peak
    assert bounds.lr(step=10**6, elapsed_s=15.0) == pytest.approx(2e-3 * 0.55)  # 50%
    assert bounds.lr(step=10**6, elapsed_s=30.0) == pytest.approx(2e-3 * 0.1)  # 100%: floor
    assert bounds.lr(step=10**6, elapsed_s=45.0) == pytest.approx(2e-3 * 0.1)  # past: floor
    assert not bounds.reached(10**6, 29.9) and bounds.reached(0, 30.0)


def test_a_step_bound_decays_by_steps_and_a_constant_rate_stays() -> None:
    config = TrainConfig(epochs=None, steps=110, lr=1e-3, lr_schedule="cosine", warmup_steps=10)
    bounds = RunBounds(config, steps_per_epoch=7)
    assert [lr_at(p, config, step=50) for p in (0.0, 0.5, 1.0)] == pytest.approx(
        [1e-3, 0.55e-3, 0.1e-3]
    )
    assert bounds.lr(step=60, elapsed_s=1e9) == pytest.approx(0.55e-3)  # time does not count
    constant = TrainConfig(lr=1e-3)
    assert lr_at(1.0, constant, step=99) == 1e-3


def _stop_at(step: int) -> tuple[list[Trainer], Callable[[TrainEvent], None]]:
    holder: list[Trainer] = []

    def on_event(event: TrainEvent) -> None:
        if event.step >= step:
            holder[0].stop()

    return holder, on_event


def test_resume_with_dropout_stopped_mid_epoch_is_exact(
    tmp_path: Path, data: WordData, tiny: ModelConfig
) -> None:
    """Bit for bit on CPU: dropout draws continue from the saved generator state."""
    model = replace(tiny, dropout=0.3)
    config = TrainConfig(epochs=None, steps=30, batch_size=8, lr=3e-3, lr_schedule="cosine",
                         warmup_steps=4, weight_decay=0.1, event_interval_s=0.0, device="cpu")
    straight = Trainer(data, model, config)
    straight.run()

    holder, on_event = _stop_at(13)  # 6 steps an epoch: mid-way through the third
    first = Trainer(data, model, config, on_event)
    holder.append(first)
    assert first.run().stopped and first.step == 13
    first.save(tmp_path / "stopped.safetensors")
    torch.manual_seed(1234)  # whatever the process did in between
    resumed = Trainer.from_checkpoint(tmp_path / "stopped.safetensors")
    resumed.run()

    ours, theirs = resumed.snapshot(), straight.snapshot()
    assert ours.step == theirs.step == 30 and ours.best_step == theirs.best_step
    for name, weight in theirs.model_state.items():
        assert torch.equal(ours.model_state[name], weight), name
    assert ours.optimizer_state is not None and theirs.optimizer_state is not None
    for slot, tensors in theirs.optimizer_state["state"].items():
        for key, value in tensors.items():
            assert torch.equal(ours.optimizer_state["state"][slot][key], value)
    # (the history's train loss is a mean over steps since the last validation: the resumed
    # run's first one covers fewer steps)
    assert [(h["step"], h["val_loss"]) for h in ours.history] == [
        (h["step"], h["val_loss"]) for h in theirs.history
    ]


def test_a_run_ends_on_its_best_weights_and_resumes_from_its_last(
    tmp_path: Path, data: WordData, tiny: ModelConfig
) -> None:
    # A high rate on 48 words overfits: validation gets worse after some early step.
    config = TrainConfig(epochs=None, steps=120, batch_size=8, lr=3e-2, eval_interval=6,
                         device="cpu")
    trainer = Trainer(data, tiny, config)
    result = trainer.run()
    vals = {h["step"]: h["val_loss"] for h in trainer.history}
    best = min(vals, key=lambda step: vals[step])
    assert result.best_step == best < 120 and result.val_loss == vals[best]
    assert evaluate(trainer.model, trainer.val_tokens, trainer.val_lengths) == pytest.approx(
        vals[best], rel=1e-6
    )  # the model shows the best weights, not the last ones

    trainer.save(tmp_path / "run.safetensors")
    ckpt = load_checkpoint(tmp_path / "run.safetensors")
    assert (ckpt.step, ckpt.best_step, ckpt.best_val_loss) == (120, best, vals[best])
    assert ckpt.resume_state is not None  # the last weights, to go on from
    loaded, _ = evaluate_words(ckpt.build_model(), ckpt.vocab, ckpt.val_words)
    assert loaded == pytest.approx(vals[best], rel=1e-5)

    longer = replace(config, steps=126)
    straight = Trainer(data, tiny, longer)
    straight.run()
    resumed = Trainer.from_checkpoint(ckpt, longer)
    resumed.run()
    for name, weight in straight.snapshot().resume_state.items():  # type: ignore[union-attr]
        assert torch.equal(resumed.snapshot().resume_state[name], weight)  # type: ignore[index]


def test_patience_stops_a_run_that_no_longer_improves(data: WordData, tiny: ModelConfig) -> None:
    # At rate 0 the weights never change: the first validation stays the best.
    config = TrainConfig(epochs=None, steps=100, batch_size=8, lr=0.0, eval_interval=2,
                         patience=3, device="cpu")
    result = Trainer(data, tiny, config).run()
    assert result.early_stopped and not result.stopped
    assert (result.best_step, result.steps) == (2, 2 + 3 * 2)


def test_a_stopped_run_returns_without_measuring_the_training_set(
    data: WordData, tiny: ModelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluated: list[int] = []
    real = train_module.evaluate

    def counting(model: torch.nn.Module, tokens: torch.Tensor, lengths: object) -> float:
        evaluated.append(len(tokens))
        return real(model, tokens, lengths)  # type: ignore[arg-type]

    monkeypatch.setattr(train_module, "evaluate", counting)
    holder, on_event = _stop_at(3)
    config = TrainConfig(epochs=None, steps=10**6, batch_size=8, eval_interval=10**5,
                         event_interval_s=0.0, device="cpu")
    trainer = Trainer(data, tiny, config, on_event)
    holder.append(trainer)
    result = trainer.run()
    assert result.stopped and result.steps == 3 and evaluated == []
    assert result.train_loss > 0  # the mean loss of its last steps
    unstopped = Trainer(data, tiny, replace(config, steps=3)).run()
    assert not unstopped.stopped and evaluated  # a finished run does measure


@pytest.mark.parametrize(
    ("tokens", "layers", "width", "dropout", "lr"),
    [(3_800, 2, 64, 0.2, 1e-3), (9_450, 2, 64, 0.2, 1e-3), (23_000, 2, 64, 0.2, 1e-3),
     (230_000, 1, 96, 0.0, 3e-3)],
)
def test_auto_fits_the_model_to_the_list(
    tokens: int, layers: int, width: int, dropout: float, lr: float
) -> None:
    preset = resolve_auto(tokens, 30.0)
    model = preset.model
    assert (model.n_layer, model.d_model, model.dropout) == (layers, width, dropout)
    assert preset.train.time_budget_s == 30.0 and preset.train.lr_schedule == "cosine"
    # The README's rule: AdamW 1e-3 from the prior (small lists), 3e-3 from scratch.
    assert preset.train.lr == lr and preset.train.prior == (lr == 1e-3)
    assert f"{tokens:,} training tokens" in preset.description and preset.name == "auto"


def test_auto_gives_more_capacity_and_less_dropout_to_bigger_lists() -> None:
    sizes = [500, 5_000, 9_450, 20_000, 60_000, 100_000, 200_000, 2_000_000]
    models = [resolve_auto(n, 30.0).model for n in sizes]
    capacity = [m.n_layer * m.d_model**2 for m in models]
    assert capacity == sorted(capacity) and capacity[0] < capacity[-1]
    dropouts = [m.dropout for m in models]
    assert dropouts[0] >= 0.2 and dropouts[-1] < dropouts[0]
    long_run = resolve_auto(2_000_000, 600.0)
    assert long_run.model.n_layer > models[-1].n_layer  # time buys depth on big lists
    on_a_gpu = resolve_auto(2_000_000, 30.0, "cuda")  # the same seconds buy more steps there
    assert on_a_gpu.model.n_layer > models[-1].n_layer


def test_the_auto_plan_resolves_on_the_words_it_will_train_on(words_file: Path) -> None:
    trainer = build_trainer(TrainPlan(data=str(words_file), steps=5, threads=1))
    expected = resolve_auto(sum(len(w) + 1 for w in trainer.data.train_words), 5 * 0.003)
    assert trainer.preset == "auto" and DEFAULT_PRESET == "auto"
    assert trainer.model_config.d_model == expected.model.d_model
    assert trainer.config.steps == 5 and trainer.config.time_budget_s is None
    assert trainer.run().steps == 5


def test_what_auto_chooses_is_known_before_torch_is_loaded() -> None:
    code = (
        "import sys\n"
        "from minigpt2.core.train.plan import TrainPlan, chosen_preset, plan_data\n"
        "plan = TrainPlan(time_budget_s=30)\n"
        "print(chosen_preset(plan, plan_data(plan)).description)\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("auto for ") and ", 30 s:" in done.stdout


def test_auto_starts_the_same_way_whatever_the_budget() -> None:
    """Small lists peak a few hundred steps in: a longer budget must not start differently."""
    short, long = resolve_auto(3_000, 10.0), resolve_auto(3_000, 120.0)
    assert short.model == long.model and short.train == long.train
    assert 20 <= short.train.warmup_steps < 100


def test_on_a_small_list_auto_ends_at_its_epoch_cap_whatever_the_time_budget(
    data: WordData, tiny: ModelConfig
) -> None:
    """More time must never hurt: past the cap a small list only overfits, so a longer
    budget ends at the same step with the same schedule, hence the same weights."""
    small, large = resolve_auto(3_000, 30.0), resolve_auto(230_000, 30.0)
    assert small.train.epoch_cap is not None and large.train.epoch_cap is None
    capped = replace(small.train, epoch_cap=3, batch_size=8, warmup_steps=2, threads=1, prior=False,
                     sample_interval_s=0)
    results = []
    for budget in (1e6, 1e9):  # both far beyond 3 epochs on any machine
        config = capped.bounded(time_budget_s=budget)
        assert config.epoch_cap == 3  # a time budget keeps the cap
        trainer = Trainer(data, tiny, replace(config, event_interval_s=0.0))
        # Without the cap the run would go on for days: stop it a little past, to fail fast.
        trainer.on_event = lambda event, t=trainer: t.stop() if event.step > 30 else None
        results.append((trainer.run(), trainer.model.state_dict()))
    (first, weights), (second, weights_2) = results
    assert first.steps == second.steps == 3 * 6  # 48 words, batch 8
    assert all(torch.equal(weights[k], weights_2[k]) for k in weights)
    assert capped.bounded(steps=40).epoch_cap is None  # an explicit count replaces it


def test_no_words_have_a_loss_of_zero_over_zero_tokens(tiny: ModelConfig) -> None:
    vocab = Vocab("abc")
    model = MiniGPT2(replace(tiny, vocab_size=vocab.size, block_size=6))
    assert evaluate_words(model, vocab, []) == (0.0, 0)


@pytest.mark.parametrize(("steps_per_epoch", "interval"), [(1000, 200), (201, 200), (150, 150)])
def test_a_run_validates_every_epoch_or_every_200_steps_whichever_comes_first(
    steps_per_epoch: int, interval: int
) -> None:
    bounds = RunBounds(TrainConfig(epochs=3), steps_per_epoch)  # README: Presets, "ends on..."
    assert bounds.eval_interval == interval
    assert RunBounds(TrainConfig(epochs=3, eval_interval=7), steps_per_epoch).eval_interval == 7


def test_progress_is_the_further_of_steps_and_time_and_estimates_the_time_left() -> None:
    by_steps = RunBounds(TrainConfig(epochs=None, steps=100), steps_per_epoch=10)
    assert by_steps.progress(25, elapsed_s=10.0) == (0.25, 30.0)  # 10 s for a quarter
    assert by_steps.progress(100, elapsed_s=10.0) == (1.0, 0.0)
    both = RunBounds(TrainConfig(epochs=None, steps=100, time_budget_s=40.0), 10)
    assert both.progress(25, elapsed_s=20.0) == (0.5, 20.0)  # the time bound is further on
    unbounded = RunBounds(TrainConfig(epochs=None), 10)
    assert unbounded.progress(25, elapsed_s=20.0) == (None, None)


def test_patience_counts_validations_without_a_new_best() -> None:
    bounds = RunBounds(TrainConfig(epochs=None, steps=10**6, patience=3, eval_interval=10), 50)
    assert not bounds.out_of_patience(129, best_step=100)  # two validations and a bit
    assert bounds.out_of_patience(130, best_step=100)  # three validations since the best
    assert not RunBounds(TrainConfig(epochs=3, eval_interval=10), 50).out_of_patience(10**6, 0)


def test_without_a_step_the_rate_is_the_first_step_s() -> None:
    config = TrainConfig(lr=0.004, warmup_steps=4, lr_schedule="cosine")
    assert lr_at(0.0, config) == lr_at(0.0, config, step=0) == 0.001  # a quarter of the peak
    assert lr_at(0.0, config, step=3) == 0.004


@pytest.mark.parametrize(
    ("bound", "seconds"),
    [({"steps": 1000}, "3"), ({"epochs": 2}, "0.024"), ({"time_budget_s": 7.5}, "7.5")],
)
def test_auto_turns_a_step_or_epoch_bound_into_seconds_at_its_step_cost(
    bound: dict[str, float], seconds: str
) -> None:
    # 100 words: 4 batches of AUTO_BATCH=32 an epoch; a CPU step is reckoned at 3 ms.
    words = ["".join(chars) for chars in itertools.product("abcde", repeat=3)][:100]
    data = WordData.from_words(words, [], "x")
    description = chosen_preset(TrainPlan(preset="auto", **bound), data, "cpu").description
    assert f"400 training tokens, {seconds} s:" in description


def test_a_resumed_run_reports_its_last_validation_until_it_validates_again(
    tmp_path: Path, data: WordData, tiny: ModelConfig, device: str
) -> None:
    config = TrainConfig(epochs=None, steps=12, batch_size=8, eval_interval=4,
                         event_interval_s=0.0, sample_interval_s=0.0, device=device)
    first = Trainer(data, tiny, config)
    first.run()
    first.save(tmp_path / "run.safetensors")
    assert [h["step"] for h in first.history] == [4, 8, 12]
    events: list[TrainEvent] = []
    resumed = Trainer.from_checkpoint(
        tmp_path / "run.safetensors", replace(config, steps=16), events.append
    )
    resumed.run()
    progress = [e for e in events if e.kind == "progress"]
    assert [e.step for e in progress[:3]] == [13, 14, 15]
    assert {e.val_loss for e in progress[:3]} == {first.history[-1]["val_loss"]}


def test_a_budget_that_outlasts_the_step_bound_is_scheduled_by_steps_alone() -> None:
    """The cosine counts seconds from the end of the warm-up, as it counts steps: a run that
    will reach its cap within its budget gets the same rates whatever the budget."""
    rates = []
    for budget in (10.0, 30.0):
        config = TrainConfig(epochs=None, time_budget_s=budget, epoch_cap=2, lr=1e-3,
                             lr_schedule="cosine", warmup_steps=10)
        bounds = RunBounds(config, steps_per_epoch=55)  # the cap: 110 steps
        bounds.begin()
        pace_s = 0.05  # 110 steps take 5.5 s, within either budget
        rates.append([bounds.lr(step, elapsed_s=step * pace_s) for step in range(110)])
    assert rates[0] == rates[1]
    assert rates[0][10] == pytest.approx(1e-3) and rates[0][60] == pytest.approx(0.55e-3)


def test_a_binding_budget_counts_its_seconds_from_the_end_of_the_warm_up() -> None:
    config = TrainConfig(epochs=None, time_budget_s=30.0, lr=1e-3, lr_schedule="cosine",
                         warmup_steps=10)
    bounds = RunBounds(config, steps_per_epoch=50)
    bounds.begin()
    for step in range(10):
        bounds.lr(step, elapsed_s=step * 0.2)
    assert bounds.lr(10, elapsed_s=2.0) == pytest.approx(1e-3)  # the cosine starts at 2 s
    assert bounds.lr(11, elapsed_s=16.0) == pytest.approx(0.55e-3)  # halfway from 2 s to 30 s
    bounds.begin()  # a resumed run on a new clock, past its warm-up from its first step
    assert bounds.lr(500, elapsed_s=0.0) == pytest.approx(1e-3)
    assert bounds.lr(501, elapsed_s=15.0) == pytest.approx(0.55e-3)


def test_a_step_bound_s_cosine_spans_the_steps_after_the_warm_up() -> None:
    config = TrainConfig(epochs=None, steps=100, lr=1e-3, lr_schedule="cosine", warmup_steps=7)
    bounds = RunBounds(config, steps_per_epoch=10)
    assert bounds.lr(7, 0.0) == pytest.approx(1e-3)  # the peak when the warm-up ends
    assert bounds.lr(7 + 93 // 2, 0.0) == pytest.approx(0.55e-3, rel=0.02)  # halfway of 93
    assert bounds.lr(100, 0.0) == pytest.approx(0.1e-3)


def test_a_run_that_raises_gives_the_process_its_random_generators_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run lends the process's generators to dropout; an error mid-run returns them, so
    the caller's draws afterwards are as they would have been."""
    trainer = build_trainer(TrainPlan(data="seed", preset="seed", steps=5, seed=3))

    def fail(*args: object) -> None:
        torch.rand(7)  # the step's draws, from the lent generator
        raise RuntimeError("a step failed")

    monkeypatch.setattr(trainer, "_train_step", fail)
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    with pytest.raises(RuntimeError, match="a step failed"):
        trainer.run()
    assert torch.equal(torch.rand(3), expected)
