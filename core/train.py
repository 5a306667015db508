"""The trainer: a loop a UI thread can watch (events), pause, resume and stop.

It never prints. Encoded words live in one tensor; each epoch gathers a shuffled copy
once, so a batch is a view, not a Python collation.
"""

from __future__ import annotations

import copy
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from .config import ModelConfig, TrainConfig, with_data_shape
from .data import PAD, Vocab, WordData
from .graphs import GraphedStep
from .model import MiniGPT2
from .sample import Sampler
from .sampling import SampleConfig
from .training import EventKind, TrainEvent, TrainResult

EVAL_BATCH = 1024
SAMPLES_PER_EVENT = 5


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' requested but MPS is not available")
    if name not in ("cpu", "cuda", "mps") and not name.startswith("cuda:"):
        raise ValueError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")
    return torch.device(name)


def default_threads() -> int:
    """Half the cores, at most 4. These models are too small for many threads to help, and
    OpenMP threads that find their core busy (a UI, a second process) spin: on 2 cores under
    load, one thread trained 20x faster than two."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def encode_words(
    vocab: Vocab, words: list[str], length: int, device: torch.device
) -> tuple[Tensor, np.ndarray]:
    """(N, length) token ids BOS+word+EOS+padding, and each row's unpadded length."""
    rows = [vocab.encode_word(w, length) for w in words]
    tokens = torch.tensor(rows, dtype=torch.long).reshape(len(rows), length)
    return tokens.to(device), np.array([len(w) + 2 for w in words], dtype=np.int64)


@torch.inference_mode()
def evaluate(model: MiniGPT2, tokens: Tensor, lengths: np.ndarray) -> float:
    """Token-weighted mean cross-entropy (nats) over every character and end token."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(tokens), EVAL_BATCH):
        width = int(lengths[start : start + EVAL_BATCH].max())
        batch = tokens[start : start + EVAL_BATCH, :width]
        logits, _ = model(batch[:, :-1])
        targets = batch[:, 1:]
        total += float(
            torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), targets.flatten(), ignore_index=PAD, reduction="sum"
            )
        )
        count += int((targets != PAD).sum())
    model.train(was_training)
    return total / max(count, 1)


def evaluate_words(model: MiniGPT2, vocab: Vocab, words: list[str]) -> tuple[float, int]:
    """Loss of a trained model on other words, and the number of tokens it covers.

    Raises UnknownCharacterError or ValueError (a word too long for the model)."""
    block = model.config.block_size
    if too_long := [w for w in words if len(w) + 2 > block]:
        raise ValueError(f"{too_long[0]!r} is longer than this model's {block - 2} characters")
    tokens, lengths = encode_words(vocab, words, block, next(model.parameters()).device)
    return evaluate(model, tokens, lengths), int((lengths - 1).sum())


class Trainer:
    def __init__(
        self,
        data: WordData,
        model_config: ModelConfig,
        config: TrainConfig,
        on_event: Callable[[TrainEvent], None] | None = None,
        *,
        preset: str = "",
        checkpoint: Checkpoint | None = None,
    ) -> None:
        torch.set_num_threads(config.threads or default_threads())
        self.data = data
        self.config = config
        self.preset = preset
        self.on_event = on_event
        self.device = resolve_device(config.device)
        torch.manual_seed(config.seed)
        self.model_config = with_data_shape(model_config, data.vocab.size, data.max_len)
        self.model = MiniGPT2(self.model_config).to(self.device)
        self._use_graphs = self.device.type == "cuda" and config.cuda_graphs
        self._graphed: GraphedStep | None = None  # built at the first step of run()
        self.optimizer = _make_optimizer(self.model, config, capturable=self._use_graphs)
        self.train_tokens, self.train_lengths = encode_words(
            data.vocab, data.train_words, data.max_len, self.device
        )
        self.val_tokens, self.val_lengths = encode_words(
            data.vocab, data.val_words, data.max_len, self.device
        )
        self.steps_per_epoch = math.ceil(len(data.train_words) / config.batch_size)
        self.step = 0
        self.history: list[dict[str, float]] = []
        if checkpoint is not None:
            self._restore(checkpoint)
        self._lock = threading.Lock()  # held while the weights change
        self._unpaused = threading.Event()
        self._unpaused.set()
        self._stop = threading.Event()

    @classmethod
    def from_checkpoint(
        cls,
        source: Path | str | Checkpoint,
        config: TrainConfig | None = None,
        on_event: Callable[[TrainEvent], None] | None = None,
    ) -> Trainer:
        """Continue a run: same words, weights, optimizer state, step and schedule."""
        ckpt = source if isinstance(source, Checkpoint) else load_checkpoint(source)
        data = WordData.from_words(ckpt.train_words, ckpt.val_words, ckpt.source)
        if data.vocab != ckpt.vocab or data.max_len != ckpt.model_config.block_size:
            raise CheckpointError("its words do not match its vocabulary")
        return cls(
            data,
            ckpt.model_config,
            config or ckpt.train_config,
            on_event,
            preset=ckpt.preset,
            checkpoint=ckpt,
        )

    def _restore(self, ckpt: Checkpoint) -> None:
        self.model.load_state_dict(ckpt.model_state)
        if ckpt.optimizer_state is not None:
            self.optimizer.load_state_dict(ckpt.optimizer_state)
        self.step = ckpt.step
        self.history = list(ckpt.history)

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
        """A consistent copy of weights, optimizer and step, taken between two steps."""
        with self._lock:
            return Checkpoint(
                model_config=self.model_config,
                vocab=self.data.vocab,
                train_words=self.data.train_words,
                val_words=self.data.val_words,
                model_state={
                    k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()
                },
                train_config=self.config,
                step=self.step,
                source=self.data.source,
                preset=self.preset,
                history=list(self.history),
                optimizer_state=_cpu_copy(self.optimizer.state_dict()),
            )

    def model_copy(self) -> MiniGPT2:
        """A CPU copy of the model in training, taken between two steps: weights only, no
        optimizer state, and no random draws (building a fresh model would consume the
        global generator that dropout uses)."""
        with self._lock:
            return copy.deepcopy(self.model).to("cpu")

    def copy_weights(self, model: MiniGPT2) -> int:
        """Copy the weights in training into `model` (built from `self.model_config`),
        between two steps, and return the step they belong to. Weights only, no optimizer
        state: cheap enough to do for every sampling request while training."""
        with self._lock:
            model.load_state_dict(self.model.state_dict())
            return self.step

    def snapshot_sampler(self) -> Sampler:
        ckpt = self.snapshot()
        return Sampler(ckpt.build_model("cpu"), ckpt.vocab, ckpt.train_words, ckpt.val_words)

    def save(self, path: Path | str) -> None:
        save_checkpoint(path, self.snapshot())

    # --- the loop --------------------------------------------------------------------------

    @property
    def total_steps(self) -> int | None:
        """The step bound set by `steps` or `epochs` (the smaller), if any."""
        bounds = []
        if self.config.steps is not None:
            bounds.append(self.config.steps)
        if self.config.epochs is not None:
            bounds.append(self.config.epochs * self.steps_per_epoch)
        return min(bounds, default=None)

    def run(self) -> TrainResult:
        """Train until the step/epoch bound, the time budget, or stop(). Blocking."""
        if self.total_steps is None and self.config.time_budget_s is None:
            raise ValueError("give epochs, steps or a time budget")
        self.model.train()
        clock = _Clock()
        tokens_done = 0
        window_loss = torch.zeros((), device=self.device)  # since the last progress event
        window_steps = 0
        eval_loss = torch.zeros((), device=self.device)  # since the last evaluation
        eval_steps = 0
        last_event = last_samples = 0.0
        val_loss = self.history[-1]["val_loss"] if self.history else None
        current_epoch = -1

        while not self._finished(clock.elapsed):
            if not self._unpaused.is_set():
                clock.pause()
                self._emit("paused", clock, tokens_done, None, val_loss)
                self._unpaused.wait()
                clock.resume()
                if self._stop.is_set():
                    break
                self._emit("resumed", clock, tokens_done, None, val_loss)
            epoch, batch = divmod(self.step, self.steps_per_epoch)
            if epoch != current_epoch:
                order, widths, counts = self._epoch_batches(epoch)
                current_epoch = epoch
            loss = self._train_step(order, batch, widths[batch])
            window_loss += loss
            window_steps += 1
            eval_loss += loss
            eval_steps += 1
            tokens_done += counts[batch]

            if self._eval_due():
                val_loss = self._evaluate_and_record(float(eval_loss) / eval_steps)
                eval_loss.zero_()
                eval_steps = 0
                self._emit("eval", clock, tokens_done, None, val_loss)
            now = clock.elapsed
            if now - last_event >= self.config.event_interval_s:
                self._emit(
                    "progress", clock, tokens_done, float(window_loss) / window_steps, val_loss
                )
                window_loss.zero_()
                window_steps = 0
                last_event = now
            if (
                self.config.sample_interval_s
                and now - last_samples >= self.config.sample_interval_s
            ):
                self._emit("samples", clock, tokens_done, None, val_loss, self._quick_samples())
                last_samples = now

        train_loss = evaluate(self.model, self.train_tokens, self.train_lengths)
        final_val = (
            evaluate(self.model, self.val_tokens, self.val_lengths)
            if len(self.val_tokens)
            else None
        )
        self._emit("done", clock, tokens_done, train_loss, final_val)
        stopped = self._stop.is_set()
        self._stop.clear()  # a stop ends one run; a stop() before run() ends it at once
        return TrainResult(
            steps=self.step,
            epochs=self.step / self.steps_per_epoch,
            wall_s=clock.elapsed,
            train_loss=train_loss,
            val_loss=final_val,
            tokens_per_s=tokens_done / max(clock.elapsed, 1e-9),
            params=self.model.num_params(),
            stopped=stopped,
        )

    def _finished(self, elapsed: float) -> bool:
        total = self.total_steps
        return (
            self._stop.is_set()
            or (total is not None and self.step >= total)
            or (self.config.time_budget_s is not None and elapsed >= self.config.time_budget_s)
        )

    def _epoch_batches(self, epoch: int) -> tuple[Tensor, list[int], list[int]]:
        """This epoch's shuffled rows (one gather), each batch's width and token count.

        The order depends only on (seed, epoch), so a resumed run sees the same batches.
        """
        rng = np.random.default_rng((self.config.seed, epoch))
        perm = rng.permutation(len(self.train_lengths))
        size = self.config.batch_size
        lengths = self.train_lengths[perm]
        widths = [int(lengths[i : i + size].max()) for i in range(0, len(perm), size)]
        counts = [
            int(lengths[i : i + size].sum() - len(lengths[i : i + size]))
            for i in range(0, len(perm), size)
        ]  # targets per word: chars + EOS
        order = self.train_tokens[torch.from_numpy(perm).to(self.device)]
        return order, widths, counts

    def _train_step(self, order: Tensor, batch: int, width: int) -> Tensor:
        size = self.config.batch_size
        rows = order[batch * size : (batch + 1) * size, :width]  # trim padding past the longest
        if self._use_graphs:
            if self._graphed is None:
                self._graphed = GraphedStep(
                    self.model, self.optimizer, size, self.data.max_len, self._clip
                )
            with self._lock:
                self._set_lr()
                loss = self._graphed(rows)
                self.step += 1
            return loss.clone()  # the graph rewrites its loss at the next replay
        _, loss = self.model(rows[:, :-1], rows[:, 1:])
        assert loss is not None
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._clip()
        with self._lock:
            self._set_lr()
            self.optimizer.step()
            self.step += 1
        return loss.detach()

    def _clip(self) -> None:
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)

    def _set_lr(self) -> None:
        cfg = self.config
        if cfg.lr_schedule == "constant" and not cfg.warmup_steps:
            return
        lr = cfg.lr
        if self.step < cfg.warmup_steps:
            lr = cfg.lr * (self.step + 1) / cfg.warmup_steps
        elif cfg.lr_schedule == "cosine" and self.total_steps:
            span = max(self.total_steps - cfg.warmup_steps, 1)
            progress = min((self.step - cfg.warmup_steps) / span, 1.0)
            lr = cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in self.optimizer.param_groups:
            if isinstance(group["lr"], Tensor):  # a CUDA graph reads it on the device
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr

    def _eval_due(self) -> bool:
        interval = self.config.eval_interval or self.steps_per_epoch
        return self.step % interval == 0 and len(self.val_tokens) > 0

    def _evaluate_and_record(self, train_loss: float) -> float:
        val_loss = evaluate(self.model, self.val_tokens, self.val_lengths)
        self.history.append({"step": self.step, "train_loss": train_loss, "val_loss": val_loss})
        return val_loss

    def _quick_samples(self) -> tuple[str, ...]:
        """A few names from the current weights, as makemore prints while training. Seeded
        by the step so the global RNG (dropout) is untouched: a run stays reproducible however
        often it is sampled."""
        with self._lock:
            sampler = Sampler(
                self.model, self.data.vocab, self.data.train_words, self.data.val_words
            )
            samples = sampler.sample(
                SampleConfig(n=SAMPLES_PER_EVENT, seed=self.step, keep_cut=True)
            )
        self.model.train()
        # A young model rarely ends its names: show them cut at the limit, marked so.
        return tuple(s.name + ("…" if s.cut else "") for s in samples)

    def _emit(
        self,
        kind: EventKind,
        clock: _Clock,
        tokens: int,
        train_loss: float | None,
        val_loss: float | None,
        samples: tuple[str, ...] = (),
    ) -> None:
        # Called on the training thread, never with self._lock held: a callback may take a
        # snapshot (snapshot_sampler) without deadlocking.
        if self.on_event is None:
            return
        elapsed = clock.elapsed
        progress, remaining = self._progress(elapsed)
        self.on_event(
            TrainEvent(
                kind=kind,
                step=self.step,
                total_steps=self.total_steps,
                epoch=self.step / self.steps_per_epoch,
                train_loss=train_loss,
                val_loss=val_loss,
                tokens_per_s=tokens / elapsed if elapsed > 0 else 0.0,
                elapsed_s=elapsed,
                remaining_s=remaining,
                progress=progress,
                samples=samples,
            )
        )

    def _progress(self, elapsed: float) -> tuple[float | None, float | None]:
        fractions = []
        if self.total_steps:
            fractions.append(self.step / self.total_steps)
        if self.config.time_budget_s:
            fractions.append(elapsed / self.config.time_budget_s)
        if not fractions:
            return None, None
        done = min(max(fractions), 1.0)
        remaining = elapsed * (1 - done) / done if done > 0 else None
        return done, remaining


class _Clock:
    """Elapsed training time with pauses left out."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._paused_at: float | None = None

    @property
    def elapsed(self) -> float:
        now = self._paused_at if self._paused_at is not None else time.perf_counter()
        return now - self._start

    def pause(self) -> None:
        self._paused_at = time.perf_counter()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._start += time.perf_counter() - self._paused_at
            self._paused_at = None


def _make_optimizer(
    model: MiniGPT2, config: TrainConfig, capturable: bool = False
) -> torch.optim.Optimizer:
    """AdamW with decay on matrices only (the article's Adam when weight_decay is 0); fused
    kernels where the device has them, else the multi-tensor path."""
    params = list(model.parameters())
    groups: list[dict] = [{"params": params}]  # one group = one fused kernel call per step
    if config.weight_decay:
        groups = [
            {"params": [p for p in params if p.dim() >= 2]},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
    try:
        return torch.optim.AdamW(
            groups,
            lr=config.lr,
            weight_decay=config.weight_decay,
            fused=True,
            capturable=capturable,
        )
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(
            groups, lr=config.lr, weight_decay=config.weight_decay, foreach=True
        )


def _cpu_copy(state: dict) -> dict:
    return {
        "state": {
            k: {
                n: t.detach().cpu().clone() if isinstance(t, Tensor) else t
                for n, t in slots.items()
            }
            for k, slots in state["state"].items()
        },
        "param_groups": [
            {k: float(v) if isinstance(v, Tensor) else v for k, v in g.items()}
            for g in state["param_groups"]
        ],
    }
