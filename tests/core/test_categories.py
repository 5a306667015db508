from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from minigpt2.core.checkpoint import load_checkpoint
from minigpt2.core.config import KIND_GAIN, ModelConfig, TrainConfig
from minigpt2.core.data.dataset import KIND_REPEATS, WordData, split_words
from minigpt2.core.data.vocab import BOS, UnknownCategoryError
from minigpt2.core.data.words import WordListError, load_labelled
from minigpt2.core.model import KVCache
from minigpt2.core.sample.guidance import Blend, kind_streams
from minigpt2.core.sample.logprobs import best_categories, word_logprobs
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train.evaluate import evaluate_words
from minigpt2.core.train.trainer import Trainer

# Two kinds a model can only tell apart by the category: soft words of vowels and l/m/n,
# hard words of k/t/z. Both share the letters "a" and "o".
SOFT = ["".join(p) for p in itertools.product("lmn", "aeiou", "lmn", "aeo")][:120]
HARD = ["".join(p) for p in itertools.product("ktz", "ao", "ktz", "ao", "kz")][:120]


def write(path: Path, words: list[str]) -> Path:
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def two_lists(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "soft.txt", SOFT), write(tmp_path / "hard.txt", HARD)


def test_plain_lines_take_the_list_name_tab_lines_their_own(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_text("Fig\tfruit\nfig\tfruit\nfig\tcolour\n\temu\n\nkiwi\n", encoding="utf-8")
    assert load_labelled(path) == [
        ("fig", "fruit"),
        ("fig", "colour"),
        ("emu", "mixed"),
        ("kiwi", "mixed"),
    ]


def test_a_tab_with_no_category_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("fig\tfruit\nemu\t \x07\n", encoding="utf-8")
    with pytest.raises(WordListError, match=r"bad.txt:2: expected word<TAB>category"):
        load_labelled(path)


def test_each_list_is_a_category_and_a_word_in_two_keeps_both(tmp_path: Path) -> None:
    fruit = write(tmp_path / "fruit.txt", [f"f{i}" for i in range(40)] + ["kiwi"])
    birds = write(tmp_path / "birds.txt", [f"b{i}" for i in range(40)] + ["kiwi"])
    data = WordData.from_source([fruit, birds], dropout=0.5)
    assert data.categories == ["fruit", "birds"]
    assert data.vocab.tokens[-2:] == ["<cat:fruit>", "<cat:birds>"]
    assert data.train_categories is not None and data.val_categories is not None
    rows = list(zip(data.train_words, data.train_categories, strict=True))
    val_rows = list(zip(data.val_words, data.val_categories, strict=True))
    kiwi = {c for w, c in rows + val_rows if w == "kiwi" and c is not None}
    assert kiwi == {"fruit", "birds"}
    assert not set(data.train_words) & set(data.val_words)  # split by word, not by row
    dropped = [w for w, c in rows if c is None]
    labelled = {w for w, c in rows if c is not None}
    assert set(dropped) <= labelled and 0.3 < len(dropped) / len(labelled) < 0.7
    assert None not in data.val_categories


def test_a_small_kind_comes_twice_at_most(tmp_path: Path) -> None:
    small = write(tmp_path / "small.txt", [f"s{i}" for i in range(10)])
    half = write(tmp_path / "half.txt", [f"h{i}" for i in range(50)])
    large = write(tmp_path / "large.txt", [f"l{i}" for i in range(100)])
    data = WordData.from_source([small, half, large], dropout=0.5)
    assert data.train_categories is not None and data.val_categories is not None
    rows = Counter(zip(data.train_words, data.train_categories, strict=True))
    times = {c: {n for (_, kind), n in rows.items() if kind == c} for c in data.categories}
    assert times == {"small": {KIND_REPEATS}, "half": {2}, "large": {1}}
    assert {n for (_, kind), n in rows.items() if kind is None} == {1}  # no-kind rows once
    val_rows = list(zip(data.val_words, data.val_categories, strict=True))
    assert len(set(val_rows)) == len(val_rows)  # validation measures the lists as they are


def test_kinds_of_about_one_size_come_once(two_lists: tuple[Path, Path]) -> None:
    data = WordData.from_source(list(two_lists))
    assert data.train_categories is not None
    pairs = list(zip(data.train_words, data.train_categories, strict=True))
    assert len(pairs) == len(set(pairs))


def test_a_fresh_model_with_kinds_starts_as_the_model_without_them(
    two_lists: tuple[Path, Path],
) -> None:
    data = WordData.from_source(list(two_lists))
    model = ModelConfig(n_layer=1, n_head=2, d_model=32, positions="learned")
    trainer = Trainer(data, model, TrainConfig(epochs=1, sample_interval_s=0))
    assert trainer.model_config.kind_gain == KIND_GAIN
    scores = [word_logprobs(trainer.model, data.vocab, ["lamo", "katoz"], c)
              for c in (None, *data.categories)]  # fmt: skip
    assert scores[1] == scores[0] and scores[2] == scores[0]


def test_a_model_saved_before_kind_offsets_resumes_without_them(conditioned: Path) -> None:
    ckpt = load_checkpoint(conditioned)
    assert ckpt.model_config.kind_gain == KIND_GAIN
    older = replace(ckpt, model_config=replace(ckpt.model_config, kind_gain=0.0))
    assert Trainer.from_checkpoint(older).model_config.kind_gain == 0.0


def test_one_category_only_is_a_plain_model(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("".join(f"w{i}\tsame\n" for i in range(10)), encoding="utf-8")
    data = WordData.from_source(path)
    assert data.categories == [] and data.train_categories is None
    assert (data.train_words, data.val_words) == split_words([f"w{i}" for i in range(10)])


@pytest.fixture(scope="module")
def conditioned(tmp_path_factory: pytest.TempPathFactory, device: str) -> Path:
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("categories")
    soft, hard = write(folder / "soft.txt", SOFT), write(folder / "hard.txt", HARD)
    data = WordData.from_source([soft, hard])
    model = ModelConfig(n_layer=1, n_head=2, d_model=32, positions="learned", mlp_ratio=2)
    config = TrainConfig(epochs=25, batch_size=32, lr=1e-2, device=device, sample_interval_s=0)
    trainer = Trainer(data, model, config)
    trainer.run()
    path = folder / "conditioned.safetensors"
    trainer.save(path)
    return path


def test_checkpoint_records_the_categories_and_resumes(conditioned: Path) -> None:
    ckpt = load_checkpoint(conditioned)
    assert ckpt.vocab.categories == ["soft", "hard"]
    assert ckpt.train_categories is not None
    assert len(ckpt.train_categories) == len(ckpt.train_words)
    resumed = Trainer.from_checkpoint(ckpt)
    assert resumed.data.categories == ["soft", "hard"]
    assert resumed.data.train_categories == ckpt.train_categories
    assert int(resumed.train_tokens[:, 0].ne(BOS).sum()) == sum(
        c is not None for c in ckpt.train_categories
    )


def test_sampling_with_a_category_gives_names_of_that_kind(conditioned: Path) -> None:
    sampler = Sampler.from_checkpoint(conditioned)
    for category, letters in (("soft", set("lmneiu")), ("hard", set("ktz"))):
        names = sampler.sample(SampleConfig(n=40, category=category, seed=3))
        typical = sum(bool(set(s.name) & letters) for s in names)
        assert typical >= 36, (category, [s.name for s in names])
        assert all(not set(s.name) & set("<>:") for s in names)  # no category token leaks
    unconditioned = {s.name[0] for s in sampler.sample(SampleConfig(n=60, seed=4))}
    assert unconditioned & set("lmn") and unconditioned & set("ktz")  # both kinds, no category


def test_the_model_likes_a_word_best_under_its_own_category(conditioned: Path) -> None:
    sampler = Sampler.from_checkpoint(conditioned)
    assert best_categories(sampler, ["lamo", "katoz", "x"]) == ["soft", "hard", None]
    ckpt = load_checkpoint(conditioned)
    assert ckpt.val_categories is not None
    held_out = [w for w, c in zip(ckpt.val_words, ckpt.val_categories, strict=True) if c == "soft"]
    right, none, wrong = (
        evaluate_words(sampler.model, sampler.vocab, held_out, c)[0] for c in ("soft", None, "hard")
    )
    assert right < none < wrong
    with pytest.raises(UnknownCategoryError):
        sampler.sample(SampleConfig(category="mineral"))


def test_batched_scores_equal_one_word_scores(conditioned: Path) -> None:
    sampler = Sampler.from_checkpoint(conditioned)
    words = ["lamo", "katoz", "ma", "nolin"]
    for category in (None, "soft", "hard"):
        batched = word_logprobs(sampler.model, sampler.vocab, words, category)
        single = [sampler.score(w, category).logprob for w in words]
        assert batched == pytest.approx(single, abs=1e-4)
    assert word_logprobs(sampler.model, sampler.vocab, ["q" * 3, "l" * 99]) == [
        float("-inf"),
        float("-inf"),
    ]


def test_best_categories_without_categories_is_none(trained_path: Path) -> None:
    assert best_categories(Sampler.from_checkpoint(trained_path), ["cat"]) == [None]


def minigpt2(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minigpt2.core.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_trains_on_two_lists_and_asks_for_a_category(
    two_lists: tuple[Path, Path], tmp_path: Path
) -> None:
    soft, hard = two_lists
    out = tmp_path / "two.safetensors"
    trained = minigpt2(
        "train", "--data", soft, "--data", hard, "--preset", "seed", "--epochs", "30",
        "--threads", "1", "--quiet", "--out", out,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    summary = json.loads(trained.stdout.splitlines()[-1])
    assert summary["categories"] == ["soft", "hard"]

    sampled = minigpt2("sample", "--checkpoint", out, "--category", "hard", "-n", "3", "--json")
    records = json.loads(sampled.stdout)
    assert len(records) == 3 and all(r["category"] in ("soft", "hard") for r in records)
    scored = minigpt2("score", "--checkpoint", out, "--category", "soft", "--json", "lamo")
    assert json.loads(scored.stdout)[0]["category"] in ("soft", "hard")
    right = minigpt2("eval", "--checkpoint", out, "--data", soft, "--category", "soft")
    wrong = minigpt2("eval", "--checkpoint", out, "--data", soft, "--category", "hard")
    assert json.loads(right.stdout)["loss"] != json.loads(wrong.stdout)["loss"]

    bad = minigpt2("sample", "--checkpoint", out, "--category", "mineral")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "minigpt2: error: unknown category 'mineral'; this model has soft, hard"
    ]


def test_cli_json_has_no_category_field_without_categories(trained_path: Path) -> None:
    scored = minigpt2("score", "--checkpoint", trained_path, "--json", "cat")
    assert "category" not in json.loads(scored.stdout)[0]


def test_guidance_mixes_the_category_and_plain_distributions(
    conditioned: Path,
) -> None:
    sampler = Sampler.from_checkpoint(conditioned)

    model, vocab = sampler.model, sampler.vocab
    guided = Blend(model, kind_streams(vocab, {"soft": 1.0}, 2.0))
    prompt = torch.tensor([[vocab.start_id("soft"), *vocab.encode("la")]])
    plain = prompt.clone()
    plain[0, 0] = BOS
    with torch.inference_mode():
        given = model(prompt)[0].log_softmax(-1)
        unconditioned = model(plain)[0].log_softmax(-1)
        expected = 3.0 * given - 2.0 * unconditioned
        assert torch.allclose(guided(prompt)[0], expected, atol=1e-5)
        cache = KVCache(model.config, 1, torch.device("cpu"))
        stepwise = torch.cat([guided(prompt[:, :2], cache)[0], guided(prompt[:, 2:], cache)[0]], 1)
        assert torch.allclose(stepwise, expected, atol=1e-5)
    guided = sampler.sample(SampleConfig(n=5, category="hard", guidance=2.0, seed=1))
    for s in guided:
        assert s.logprob == pytest.approx(sampler.score(s.name, "hard").logprob, abs=1e-4)
    # The same draws (seed) from the mixed distribution, not the category's own: other names.
    mixed, own = (
        [s.name for s in sampler.sample(SampleConfig(n=20, category="hard", guidance=g, seed=1))]
        for g in (2.0, 0.0)
    )
    assert mixed != own
    with pytest.raises(ValueError, match="guidance"):
        SampleConfig(guidance=-1.0)
