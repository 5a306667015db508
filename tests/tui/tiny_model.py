"""The tiny model the app tests run on, kept as a file in tests/tui/data/ so that a torch or
CPU change cannot alter the snapshots (only the layout can). Rebuild it after a change to the
checkpoint format or the word list:

    .venv/bin/python tests/tui/tiny_model.py
"""

from __future__ import annotations

import itertools
import random
import sys
import tempfile
from pathlib import Path

TINY_CHECKPOINT = Path(__file__).parent / "data" / "tiny.safetensors"
SYLLABLES = ["an", "na", "el", "la", "ri", "mi", "ko", "sa", "to", "ra", "li", "em", "ma",
             "jo", "lu"]


def syllable_names() -> list[str]:
    """~600 made-up names of 2-3 syllables: a tiny model learns them in a few hundred
    steps, and samples from it often land in the list (so the filter has work to do)."""
    two = {a + b for a, b in itertools.product(SYLLABLES, repeat=2)}
    three = random.Random(0).sample(list(itertools.product(SYLLABLES, repeat=3)), 400)
    return sorted(two | {"".join(t) for t in three})


def train_tiny(word_file: Path, out: Path) -> None:
    """A 1-layer, 2-head model trained for 300 steps at a fixed seed (~2 s)."""
    from minigpt2.core.config import ModelConfig, TrainConfig
    from minigpt2.core.data.dataset import WordData
    from minigpt2.core.train.trainer import Trainer

    data = WordData.from_source(str(word_file), seed=1)
    model = ModelConfig(n_layer=1, n_head=2, d_model=32, positions="learned")
    # No progress events: their timing decides the train losses the history records, and
    # the snapshot of the Train tab shows that history.
    config = TrainConfig(epochs=None, steps=300, batch_size=32, lr=1e-2, seed=1, threads=1,
                         sample_interval_s=0, event_interval_s=1e9)
    trainer = Trainer(data, model, config, preset="tiny")
    trainer.run()
    trainer.save(out)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        words = Path(folder) / "names.txt"
        words.write_text("\n".join(syllable_names()) + "\n")
        TINY_CHECKPOINT.parent.mkdir(exist_ok=True)
        train_tiny(words, TINY_CHECKPOINT)
    sys.exit(0)
