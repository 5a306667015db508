"""Lists of any size (issue 18, part 4): validation while training on a fixed subset of at
most VAL_SUBSET_WORDS words, the final figure on every validation word, the default split's
cap, encoding in bulk, and loading that reports its progress. Wall-clock goals are in
bench/size_bench.py; these tests count rows, never seconds."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from minigpt2.core.checkpoint import json_list, load_checkpoint
from minigpt2.core.config import ModelConfig, TrainConfig
from minigpt2.core.data import vocab as vocab_module
from minigpt2.core.data.dataset import MAX_VAL_WORDS, WordData, split_words
from minigpt2.core.data.vocab import UnknownCharacterError
from minigpt2.core.train import trainer as train_module
from minigpt2.core.train.build import build_trainer
from minigpt2.core.train.evaluate import encode_words, evaluate, evaluate_words
from minigpt2.core.train.plan import TrainPlan
from minigpt2.core.train.trainer import VAL_SUBSET_WORDS, Trainer, val_subset

# 11**4 = 14,641 four-letter words: the default split holds out 2,928, more than the subset.
BIG = ["".join(letters) for letters in itertools.product("abcdefghijk", repeat=4)]
SMALL_MODEL = ModelConfig(d_model=16)  # the seed preset's shape, narrower: rows, not quality


@pytest.fixture(scope="module")
def big() -> WordData:
    return WordData.from_words(*split_words(BIG), source="big")


def counting_evaluations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of rows of each evaluation the trainer runs, in order."""
    rows: list[int] = []

    def counted(model: torch.nn.Module, tokens: torch.Tensor, lengths: np.ndarray) -> float:
        rows.append(len(tokens))
        return evaluate(model, tokens, lengths)  # type: ignore[arg-type]

    monkeypatch.setattr(train_module, "evaluate", counted)
    return rows


def test_the_subset_is_fixed_seeded_and_at_most_the_cap() -> None:
    chosen = val_subset(50_000, seed=7)
    assert len(chosen) == len(set(chosen.tolist())) == VAL_SUBSET_WORDS
    assert chosen.min() >= 0 and chosen.max() < 50_000
    assert np.array_equal(chosen, val_subset(50_000, seed=7))  # the same run, the same words
    assert not np.array_equal(chosen, val_subset(50_000, seed=8))
    spread = np.histogram(chosen, bins=5, range=(0, 50_000))[0]
    assert spread.min() > VAL_SUBSET_WORDS / 5 * 0.8  # drawn from the whole list, not its head
    assert np.array_equal(val_subset(300, seed=7), np.arange(300))  # few words: all of them


def test_a_large_list_validates_on_the_subset_and_reports_every_word(
    big: WordData, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = counting_evaluations(monkeypatch)
    config = TrainConfig(epochs=None, steps=40, eval_interval=10, batch_size=16, lr=3e-3,
                         sample_interval_s=0, threads=1)  # fmt: skip
    trainer = Trainer(big, SMALL_MODEL, config)
    result = trainer.run()

    val_rows = len(big.val_words)
    assert val_rows > VAL_SUBSET_WORDS and result.val_subset_words == VAL_SUBSET_WORDS
    # four validations on the subset, then every validation word once, then the train loss
    assert rows == [VAL_SUBSET_WORDS] * 4 + [val_rows, train_module.FINAL_TRAIN_WORDS]
    subset_losses = {h["step"]: h["val_loss"] for h in trainer.history}
    best_step = min(subset_losses, key=subset_losses.__getitem__)
    assert (result.best_step, result.best_val_loss) == (best_step, subset_losses[best_step])
    # the final figure: the weights kept, on every validation word (not the subset's figure)
    assert result.val_loss == evaluate(trainer.model, trainer.val_tokens, trainer.val_lengths)
    assert result.val_loss != result.best_val_loss


def test_the_best_weights_are_chosen_on_the_subset(big: WordData) -> None:
    """Resumed from a checkpoint, a run validates on the same words: the subset is part of
    the run, and the model it ends on is the one the subset liked best."""
    config = TrainConfig(epochs=None, steps=30, eval_interval=10, batch_size=16, lr=3e-3,
                         sample_interval_s=0, threads=1)  # fmt: skip
    trainer = Trainer(big, SMALL_MODEL, config)
    trainer.run()
    resumed = Trainer.from_checkpoint(trainer.snapshot())
    assert np.array_equal(resumed.val_subset, trainer.val_subset)
    subset_words = [big.val_words[i] for i in trainer.val_subset]
    assert len(set(subset_words)) == VAL_SUBSET_WORDS and set(subset_words) <= set(big.val_words)
    kept = trainer.snapshot().build_model()
    words = evaluate_words(kept, big.vocab, subset_words)[0]
    assert words == pytest.approx(trainer.best.val_loss, abs=1e-5)


def test_a_small_list_validates_on_every_word_once_per_evaluation(
    data: WordData, tiny: ModelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = counting_evaluations(monkeypatch)
    config = TrainConfig(epochs=2, batch_size=8, sample_interval_s=0, threads=1)
    result = Trainer(data, tiny, config).run()
    assert result.val_subset_words is None and result.val_loss == result.best_val_loss
    assert rows[:-1] == [len(data.val_words)] * 2  # no extra pass: the subset is all of them


def test_the_default_split_holds_out_at_most_max_val_words() -> None:
    words = [f"w{i}" for i in range(60_000)]
    train, val = split_words(words)
    assert len(val) == MAX_VAL_WORDS and sorted(train + val) == sorted(words)
    small_train, small_val = split_words(words[:1_000])
    assert (len(small_train), len(small_val)) == (800, 200)  # the article's 20%
    assert split_words(words)[0][:100] == split_words(words, val_fraction=0.0)[0][:100]


def test_bulk_encoding_matches_the_word_by_word_framing() -> None:
    words = ["é", "straße", "日本", "ab", "cat"]
    categories: list[str | None] = ["x", None, "y", "x", None]
    data = WordData.from_words(words, [], train_categories=categories)
    tokens, lengths = encode_words(data.vocab, words, 9, torch.device("cpu"), categories)
    expected = [data.vocab.encode_word(w, 9, c) for w, c in zip(words, categories, strict=True)]
    assert tokens.tolist() == expected
    assert lengths.tolist() == [len(w) + 2 for w in words]
    with pytest.raises(UnknownCharacterError, match="'z'"):
        encode_words(data.vocab, ["zé"], 9, torch.device("cpu"))
    with pytest.raises(ValueError, match="does not fit"):
        encode_words(data.vocab, ["straße"], 7, torch.device("cpu"))


def test_loading_reports_its_progress_up_to_done(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("\n".join(BIG), encoding="utf-8")
    heard: list[tuple[str, float]] = []
    plan = TrainPlan(data=str(path), preset="seed", steps=1, threads=1, sample_interval_s=0)
    trainer = build_trainer(plan, on_load=lambda what, done: heard.append((what, done)))
    assert len(trainer.data.train_words) + len(trainer.data.val_words) == len(BIG)
    fractions = [done for _, done in heard]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    stages = [what for what, _ in heard]
    assert stages[0] == "reading big.txt" and "splitting" in stages and stages[-1] == "encoding"


@pytest.mark.cli
def test_cli_summary_names_the_subset_and_reports_every_word(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("\n".join(BIG), encoding="utf-8")
    out = tmp_path / "big.safetensors"
    result = subprocess.run(
        [sys.executable, "-m", "minigpt2.core.cli", "train", "--data", str(path), "--preset",
         "seed", "--steps", "20", "--threads", "1", "--quiet", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["val_subset_words"] == VAL_SUBSET_WORDS
    assert summary["val_loss"] is not None and summary["val_subset_loss"] is not None
    ckpt = load_checkpoint(out)
    model = ckpt.build_model("cpu")
    every_word, _ = evaluate_words(model, ckpt.vocab, ckpt.val_words)
    assert abs(summary["val_loss"] - every_word) <= 5e-5 + 1e-6  # the saved weights, all words
    assert summary["val_subset_loss"] == round(ckpt.best_val_loss, 4)  # what chose them


def test_a_long_word_list_is_written_as_json_a_part_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(vocab_module, "PART_WORDS", 3)
    for words in ([], ["a"], ["a", "b", "c"], ['q"uote', "é", "x", "\\", "日本", "z", "w"]):
        assert json.loads(json_list(words)) == words
        assert json_list(words) == json.dumps(words)
