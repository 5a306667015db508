"""The trainer: a loop a UI thread can watch (events), pause, resume and stop.

It validates regularly (on a fixed subset of the validation words when they are many), ends
on the best weights (best.py) and measures them once on every validation word; schedule and
bounds live in schedule.py, evaluation and batching in evaluate.py, checkpoint capture in
checkpoint.py.
It never prints, and building one leaves the process as it was (build_trainer sets threads).
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from minigpt2.core.checkpoint import Checkpoint, capture, load_checkpoint, save_checkpoint
from minigpt2.core.config import KIND_GAIN, ModelConfig, TrainConfig, with_data_shape
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.vocab import BOS, Vocab
from minigpt2.core.device import resolve_device, rng_state, set_rng_state
from minigpt2.core.model import MiniGPT2
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train.best import BestWeights
from minigpt2.core.train.evaluate import (
    Encoded,
    Progress,
    encode_split,
    epoch_batches,
    evaluate,
)
from minigpt2.core.train.graphs import GraphedStep
from minigpt2.core.train.optim import load_optimizer_state, make_optimizer, set_lr
from minigpt2.core.train.plan import EventKind, TrainEvent, TrainResult
from minigpt2.core.train.prior import graft_prior
from minigpt2.core.train.schedule import Clock, RunBounds
from torch import Tensor

SAMPLES_PER_EVENT = 5
FINAL_TRAIN_WORDS = 2000  # the final training-set loss is measured on at most this many words
# Validation while training uses at most this many validation words, a seeded sample chosen
# once: a pass over all of a large list's took half the run, and this many pick the best
# weights as well (docs/benchmarks.md). The final weights are then measured once on every
# validation word.
VAL_SUBSET_WORDS = 2000


class Trainer:
    """Trains one model on one word list. `model` holds the live weights while a run goes on;
    a run ends on the best weights seen by validation, and checkpoints hold those (with the
    live weights beside them, so a saved run resumes exactly)."""

    def __init__(
        self,
        data: WordData,
        model_config: ModelConfig,
        config: TrainConfig,
        on_event: Callable[[TrainEvent], None] | None = None,
        *,
        preset: str = "",
        checkpoint: Checkpoint | None = None,
        on_load: Progress | None = None,
    ) -> None:
        self.data = data
        self.config = config
        self.preset = preset
        self.on_event = on_event
        self.device = resolve_device(config.device)
        self.model_config = with_data_shape(model_config, data.vocab.size, data.max_len)
        if data.categories and checkpoint is None:
            # Kinds reach every position (ModelConfig.kind_gain); a resumed run keeps its
            # own, so a model saved before kind offsets (0) goes on as it was trained.
            self.model_config = replace(self.model_config, kind_gain=KIND_GAIN)
        # Seeded apart from the process's generator; dropout then draws from a stream that
        # continues from here and travels in checkpoints (see run()).
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = MiniGPT2(self.model_config)
            if checkpoint is None:
                if config.prior:
                    graft_prior(self.model, data.vocab)
                start_kinds_as_none(self.model, data.vocab)
            self.model.to(self.device)
            self._rng: dict[str, Tensor] = {"cpu": torch.get_rng_state()}
        self._use_graphs = self.device.type == "cuda" and config.cuda_graphs
        self._graphed: GraphedStep | None = None  # built at the first step of run()
        self.optimizer = make_optimizer(self.model, config, capturable=self._use_graphs)
        train, val = encode_split(data, self.device, on_load)
        (self.train_tokens, self.train_lengths), (self.val_tokens, self.val_lengths) = train, val
        self.val_subset = val_subset(len(self.val_lengths), config.seed)
        self._subset: Encoded = (
            self.val_tokens[torch.from_numpy(self.val_subset).to(self.device)],
            self.val_lengths[self.val_subset],
        )
        self.steps_per_epoch = math.ceil(len(data.train_words) / config.batch_size)
        self.bounds = RunBounds(config, self.steps_per_epoch)
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.best = BestWeights()
        self._clock = Clock()
        if checkpoint is not None:
            self._restore(checkpoint)
        self._lock = threading.Lock()  # held while the weights change
        self._unpaused = threading.Event()
        self._unpaused.set()
        self._stop = threading.Event()
        self.between_steps: Callable[[], None] | None = None  # e.g. to let a UI go first
        # "samples" events also after this many steps, if sooner than sample_interval_s: a fast
        # run changes its names long before the interval is up (None: by time only).
        self.sample_interval_steps: int | None = None

    @classmethod
    def from_checkpoint(
        cls,
        source: Path | str | Checkpoint,
        config: TrainConfig | None = None,
        on_event: Callable[[TrainEvent], None] | None = None,
        on_load: Progress | None = None,
    ) -> Trainer:
        """Continue a run: same words, weights, optimizer state, step, schedule and RNG."""
        ckpt = source if isinstance(source, Checkpoint) else load_checkpoint(source)
        data = ckpt.word_data()
        config = config or ckpt.train_config
        return cls(data, ckpt.model_config, config, on_event, preset=ckpt.preset,
                   checkpoint=ckpt, on_load=on_load)  # fmt: skip

    def _restore(self, ckpt: Checkpoint) -> None:
        self.model.load_state_dict(ckpt.resume_state or ckpt.model_state)
        if ckpt.optimizer_state is not None:
            load_optimizer_state(self.optimizer, ckpt.optimizer_state)
        self.step = ckpt.step
        self.history = list(ckpt.history)
        self._rng.update(ckpt.rng_state)
        if ckpt.best_step is not None:
            weights = {k: v.to(self.device) for k, v in ckpt.model_state.items()}
            self.best.restore(weights, ckpt.best_step, ckpt.best_val_loss)

    # --- control from other threads ------------------------------------------------------

    def pause(self) -> None:
        self._unpaused.clear()

    def resume(self) -> None:
        self._unpaused.set()

    def stop(self) -> None:
        self._stop.set()
        self._unpaused.set()  # wake a paused loop so it can see the stop

    @property
    def paused(self) -> bool:
        return not self._unpaused.is_set()

    def snapshot(self) -> Checkpoint:
        """A consistent copy of the run, taken between two steps: the best weights as the
        model, and what resuming needs (live weights, optimizer, step, RNG state)."""
        with self._lock:
            return capture(
                self.model, self.optimizer, self.best, self._rng,
                model_config=self.model_config, vocab=self.data.vocab,
                train_words=self.data.train_words, val_words=self.data.val_words,
                train_config=self.config, step=self.step, source=self.data.source,
                preset=self.preset, history=list(self.history),
                train_categories=self.data.train_categories,
                val_categories=self.data.val_categories,
            )  # fmt: skip

    def model_copy(self) -> MiniGPT2:
        """A CPU copy of the model in training, between two steps: no optimizer state, and
        no random draws (building a fresh model would draw from dropout's generator)."""
        with self._lock:
            return copy.deepcopy(self.model).to("cpu")

    def copy_weights(self, model: MiniGPT2) -> int:
        """Copy the weights in training into `model` between two steps; return their step.
        Weights only: cheap enough for every sampling request while training."""
        with self._lock:
            model.load_state_dict(self.model.state_dict())
            return self.step

    def snapshot_sampler(self) -> Sampler:
        """A sampler on a copy of the current weights: the live ones while a run goes on, the
        best ones once it has ended."""
        data = self.data
        return Sampler(self.model_copy(), data.vocab, data.train_words, data.val_words)

    def save(self, path: Path | str) -> None:
        save_checkpoint(path, self.snapshot())

    # --- the loop --------------------------------------------------------------------------

    @property
    def total_steps(self) -> int | None:
        """The step bound set by `steps` or `epochs` (the smaller), if any."""
        return self.bounds.total_steps

    def run(self) -> TrainResult:
        """Train until the step/epoch bound, the time budget, the patience, or stop().
        Blocking. Ends on the best weights validation has seen."""
        if self.total_steps is None and self.config.time_budget_s is None:
            raise ValueError("give epochs, steps or a time budget")
        with self._lock:
            self.best.show_live(self.model)
        self.model.train()
        clock = self._clock = Clock()
        self.bounds.begin()
        window_loss = torch.zeros((), device=self.device)  # since the last progress event
        tokens_done = window_steps = 0
        last_train_loss = math.nan
        eval_loss = torch.zeros((), device=self.device)  # since the last evaluation
        eval_steps = 0
        last_event = last_samples = 0.0
        last_samples_step = self.step
        val_loss = self.history[-1]["val_loss"] if self.history else None
        current_epoch = -1
        patience_out = False
        process_rng = rng_state(self.device)  # lent to the run: dropout draws from it
        set_rng_state(self._rng, self.device, self.config.seed)
        try:  # a run that raises gives the process its generators back too
            while not (
                patience_out or self._stop.is_set() or self.bounds.reached(self.step, clock.elapsed)
            ):
                if not self._unpaused.is_set():
                    clock.pause()
                    self._emit("paused", tokens_done, None, val_loss)
                    self._unpaused.wait()
                    clock.resume()
                    if self._stop.is_set():
                        break
                    self._emit("resumed", tokens_done, None, val_loss)
                epoch, batch = divmod(self.step, self.steps_per_epoch)
                if epoch != current_epoch:
                    order, widths, counts = epoch_batches(
                        self.train_lengths, self.config, epoch, self.device
                    )
                    current_epoch = epoch
                if self.between_steps is not None:
                    self.between_steps()
                loss = self._train_step(order, batch, widths[batch])
                window_loss += loss
                window_steps += 1
                eval_loss += loss
                eval_steps += 1
                tokens_done += counts[batch]

                if self.step % self.bounds.eval_interval == 0 and len(self.val_tokens):
                    val_loss = self._evaluate_and_record(float(eval_loss) / eval_steps)
                    eval_loss.zero_()
                    eval_steps = 0
                    patience_out = self.bounds.out_of_patience(self.step, self.best.step)
                    self._emit("eval", tokens_done, None, val_loss)
                now = clock.elapsed
                if now - last_event >= self.config.event_interval_s:
                    last_train_loss = float(window_loss) / window_steps
                    self._emit("progress", tokens_done, last_train_loss, val_loss)
                    window_loss.zero_()
                    window_steps = 0
                    last_event = now
                if self._samples_due(now - last_samples, self.step - last_samples_step):
                    self._emit("samples", tokens_done, None, val_loss, self._quick_samples())
                    last_samples, last_samples_step = now, self.step
        finally:
            set_rng_state(process_rng, self.device, self.config.seed)
        stopped = self._stop.is_set()
        self._stop.clear()  # a stop ends one run; a stop() before run() ends it at once
        if window_steps:
            last_train_loss = float(window_loss) / window_steps
        train_loss, final_val = self._finish(stopped, last_train_loss)
        # The final figure, on every validation word; a stopped run without one, its best.
        whole = final_val is not None
        self._emit("done", tokens_done, train_loss, final_val if whole else self.best.val_loss,
                   whole=whole)  # fmt: skip
        return TrainResult(
            steps=self.step,
            epochs=self.step / self.steps_per_epoch,
            wall_s=clock.elapsed,
            train_loss=train_loss,
            val_loss=final_val,
            tokens_per_s=tokens_done / max(clock.elapsed, 1e-9),
            params=self.model.num_params(),
            stopped=stopped,
            best_step=self.best.step,
            early_stopped=patience_out,
            best_val_loss=self.best.val_loss,
            val_subset_words=self.val_subset_words,
        )

    @property
    def val_subset_words(self) -> int | None:
        """The size of the validation subset runs validate on, None when they use every
        validation word (the list is small enough)."""
        subset = len(self.val_subset)
        return subset if subset < len(self.val_lengths) else None

    def _finish(self, stopped: bool, last_train_loss: float) -> tuple[float, float | None]:
        """Validate the last weights unless just done, switch the model to the best ones, and
        measure them on every validation word (when validation used a subset) and on (at most
        FINAL_TRAIN_WORDS of) the training words. Returns the two losses.

        A stopped run skips these passes so that it returns at once, whatever the list's size:
        it reports the mean loss of its last steps, and a validation loss only when the
        subset was every validation word (None otherwise)."""
        evaluated = bool(self.history) and self.history[-1]["step"] == self.step
        if not stopped and len(self.val_tokens) and not evaluated:
            self._evaluate_and_record(last_train_loss)
        with self._lock:
            self.best.show_best(self.model, self.step)
        val_loss = self.best.val_loss
        if self.val_subset_words is not None:
            val_loss = None if stopped else evaluate(self.model, self.val_tokens, self.val_lengths)
        if stopped and not math.isnan(last_train_loss):
            train_loss = last_train_loss
        else:
            train_loss = evaluate(
                self.model,
                self.train_tokens[:FINAL_TRAIN_WORDS],
                self.train_lengths[:FINAL_TRAIN_WORDS],
            )
        return train_loss, val_loss

    def _train_step(self, order: Tensor, batch: int, width: int) -> Tensor:
        size = self.config.batch_size
        picked = order[batch * size : (batch + 1) * size]
        rows = self.train_tokens[picked, :width].long()  # trim padding past the longest
        if self._use_graphs:
            if self._graphed is None:
                self._graphed = GraphedStep(
                    self.model, self.optimizer, size, self.data.max_len, self._clip
                )
            with self._lock:
                self._set_lr()
                loss = self._graphed(rows)
                self._end_step()
            return loss.clone()  # the graph rewrites its loss at the next replay
        _, loss = self.model(rows[:, :-1], rows[:, 1:])
        assert loss is not None
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._clip()
        with self._lock:
            self._set_lr()
            self.optimizer.step()
            self._end_step()
        return loss.detach()

    def _end_step(self) -> None:
        self.step += 1
        self._rng = rng_state(self.device)  # this step's dropout is drawn: a snapshot resumes here

    def _clip(self) -> None:
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)

    def _set_lr(self) -> None:
        if self.config.lr_schedule != "constant" or self.config.warmup_steps:
            set_lr(self.optimizer, self.bounds.lr(self.step, self._clock.elapsed))

    def _evaluate_and_record(self, train_loss: float) -> float:
        """Validate on the subset, record the loss in the history, offer the weights as the
        best."""
        val_loss = evaluate(self.model, *self._subset)
        self.history.append({"step": self.step, "train_loss": train_loss, "val_loss": val_loss})
        with self._lock:
            self.best.offer(self.model, self.step, val_loss)
        return val_loss

    def _samples_due(self, seconds: float, steps: int) -> bool:
        """Since the last "samples" event: is the next one due? Never with an interval of 0."""
        interval_s, interval_steps = self.config.sample_interval_s, self.sample_interval_steps
        if not interval_s:
            return False
        return seconds >= interval_s or (interval_steps is not None and steps >= interval_steps)

    def _quick_samples(self) -> tuple[str, ...]:
        """A few names from a copy of the current weights, as makemore prints while training
        (seeded by the step: the generator dropout draws from is untouched). A young model
        rarely ends its names: they come cut at the limit, marked so."""
        config = SampleConfig(n=SAMPLES_PER_EVENT, seed=self.step, include_cut=True)
        # Names only: a sampler given the words would build sets of them all, every few
        # seconds (a tenth of a second and more on a large list), to say which are novel.
        sampler = Sampler(self.model_copy(), self.data.vocab)
        return tuple(s.shown for s in sampler.sample(config))

    def _emit(self, kind: EventKind, tokens: int, train_loss: float | None,
              val_loss: float | None, samples: tuple[str, ...] = (), *,
              whole: bool = False) -> None:  # fmt: skip
        # Called on the training thread, never with self._lock held: a callback may take a
        # snapshot (snapshot_sampler) without deadlocking.
        if self.on_event is None:
            return
        elapsed = self._clock.elapsed
        progress, remaining = self.bounds.progress(self.step, elapsed)
        self.on_event(
            TrainEvent(
                kind=kind, step=self.step, total_steps=self.total_steps,
                epoch=self.step / self.steps_per_epoch, train_loss=train_loss, val_loss=val_loss,
                tokens_per_s=tokens / elapsed if elapsed > 0 else 0.0, elapsed_s=elapsed,
                remaining_s=remaining, progress=progress, samples=samples,
                best_step=self.best.step, best_val_loss=self.best.val_loss,
                val_subset_words=None if whole else self.val_subset_words,
            )  # fmt: skip
        )


def val_subset(rows: int, seed: int, size: int = VAL_SUBSET_WORDS) -> np.ndarray:
    """Which of `rows` validation rows runs validate on: all of them when they are at most
    `size`, else `size` of them drawn with `seed`, the same for a run and its resumptions."""
    if rows <= size:
        return np.arange(rows)
    return np.sort(np.random.default_rng((seed, rows)).choice(rows, size, replace=False))


def start_kinds_as_none(model: MiniGPT2, vocab: Vocab) -> None:
    """Give every category's start token BOS's row: a fresh model with kinds starts as the
    same model without them (its kind offsets are zero) and learns how each kind differs,
    rather than first undoing a random row (docs/auto.md, "Kinds")."""
    with torch.no_grad():
        for row in vocab.category_ids:
            model.tok_emb.weight[row] = model.tok_emb.weight[BOS]
