"""The one way a plan becomes a trainer (`build_trainer`). The words are read and the preset
checked before torch is imported, so a typo fails at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from minigpt2.core.data.dataset import READ_SHARE, LoadProgress, WordData
from minigpt2.core.train.plan import TrainEvent, TrainPlan, _flag, chosen_preset, plan_data

if TYPE_CHECKING:
    from minigpt2.core.checkpoint import Checkpoint
    from minigpt2.core.train.trainer import Trainer


def build_trainer(
    plan: TrainPlan,
    on_event: Callable[[TrainEvent], None] | None = None,
    *,
    current: Checkpoint | None = None,
    data: WordData | None = None,
    on_load: LoadProgress | None = None,
) -> Trainer:
    """The one way a plan becomes a trainer: a fresh run on a preset, or a saved run (the
    `plan.resume` file, or the app's `current` model) continued exactly. `data` replaces the
    plan's words with words already split (a benchmark's: makemore's split of names.txt).
    `on_load` hears how far loading the words is (a large list takes seconds), up to 1.0.

    The words are read and the preset checked before torch is imported, so a typo fails at
    once. Raises ValueError (WordListError, CheckpointError) with a message for the user.

    Sets torch's thread count (and kernels) for the whole process (device.configure_cpu), and
    must: torch
    has one pool of threads per process, so a run cannot have a count of its own, and the
    count is the resolved config's (a resumed run's may come from its checkpoint), known
    only here. Every front end (CLI, app, benchmarks) builds its runs here, so none can
    forget it and run on torch's default of every core, which spins under load.
    """
    overrides = {
        "batch_size": plan.batch_size,
        "lr": plan.lr,
        "seed": plan.seed,
        "device": plan.device,
        "threads": plan.threads,
        "sample_interval_s": plan.sample_interval_s,
    }
    if plan.resumes or current is not None:
        given = [
            _flag(name)
            for name in ("data", "val_data", "preset", "keep_case")
            if getattr(plan, name) not in (None, False)
        ] + (["the words given"] if data is not None else [])
        if given:
            raise ValueError(
                f"a resumed run keeps its own words, preset and case; drop {', '.join(given)}"
            )
        from minigpt2.core.checkpoint import load_checkpoint
        from minigpt2.core.device import configure_cpu
        from minigpt2.core.train.trainer import Trainer

        ckpt = current if current is not None else load_checkpoint(plan.resume)  # type: ignore[arg-type]
        config = ckpt.train_config.updated(**overrides).bounded(**plan.bound)
        configure_cpu(config)
        return Trainer.from_checkpoint(ckpt, config, on_event, _encoding(on_load, 0.0))

    data = plan_data(plan, on_load) if data is None else data
    from minigpt2.core.device import configure_cpu, resolve_device
    from minigpt2.core.train.trainer import Trainer

    preset = chosen_preset(plan, data, resolve_device(plan.device or "auto").type)
    config = preset.train.updated(**overrides).bounded(**plan.bound)
    configure_cpu(config)
    return Trainer(data, preset.model, config, on_event, preset=preset.name,
                   on_load=_encoding(on_load, READ_SHARE))  # fmt: skip


def _encoding(on_load: LoadProgress | None, start: float) -> Callable[[float], None] | None:
    """A trainer's progress in encoding its words, as the rest of loading after `start`."""
    if on_load is None:
        return None
    return lambda done: on_load("encoding", start + (1 - start) * done)


