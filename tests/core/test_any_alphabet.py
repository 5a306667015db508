"""Lists in any alphabet: text read in one Unicode form, and auto fitted to what the prior
knows of the list (the lists in tests/data/ come from bench/make_lists.py)."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from minigpt2.core.config import (
    AUTO_LR,
    AUTO_LR_FROM_PRIOR,
    AUTO_NEW_ALPHABET_CAP,
    AUTO_PRIOR_KNOWN,
    PRIOR_CHARS,
    ModelConfig,
    resolve_auto,
    with_data_shape,
)
from minigpt2.core.data.vocab import Vocab
from minigpt2.core.data.words import load_labelled, load_words
from minigpt2.core.model import MiniGPT2
from minigpt2.core.sample.repair import Repairer
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train.build import build_trainer
from minigpt2.core.train.plan import TrainPlan, chosen_preset, prior_known_share

COMPOSED, DECOMPOSED = "\u00e9", "e\u0301"  # "é" as one code point, and as "e" + an accent


def test_a_word_is_one_word_however_its_accent_was_typed(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text(f"caf{DECOMPOSED}\ncaf{COMPOSED}\nREN{DECOMPOSED.upper()}E\n", "utf-8")
    words = load_words(path)
    assert words == [f"caf{COMPOSED}", f"ren{COMPOSED}e"]
    assert all(unicodedata.is_normalized("NFC", w) for w in words)
    assert load_words(path, keep_case=True)[-1] == f"REN{COMPOSED.upper()}E"


def test_labelled_lines_are_composed_too(tmp_path: Path) -> None:
    path = tmp_path / "drinks.txt"
    path.write_text(f"caf{DECOMPOSED}\tdrinks\ncaf{COMPOSED}\tdrinks\nth{DECOMPOSED}\n", "utf-8")
    assert load_labelled(path) == [(f"caf{COMPOSED}", "drinks"), (f"th{COMPOSED}", "drinks")]


@pytest.fixture(scope="module")
def accented() -> Sampler:
    """An untrained model over a vocabulary with "é": the folding, not the weights, is tested."""
    torch.manual_seed(0)
    vocab = Vocab.from_words(["café", "thé", "rené", "abc"])
    config = ModelConfig(n_layer=1, n_head=1, d_model=16, positions="learned")
    model = MiniGPT2(with_data_shape(config, vocab.size, 10))
    return Sampler(model, vocab, train_words=["café"])


def test_scores_are_the_same_for_both_spellings(accented: Sampler) -> None:
    composed, decomposed = accented.score(f"caf{COMPOSED}"), accented.score(f"CAF{DECOMPOSED}")
    assert decomposed == composed and composed.source == "train"


@pytest.mark.parametrize(
    ("typed", "holds"),
    [
        ({"prompt": DECOMPOSED}, lambda name: name.startswith(COMPOSED)),
        ({"ends_with": DECOMPOSED}, lambda name: name.endswith(COMPOSED)),
        ({"contains": f"b{DECOMPOSED}"}, lambda name: f"b{COMPOSED}" in name),
    ],
)
def test_prompts_and_constraints_typed_decomposed_act_on_the_composed_character(
    accented: Sampler, typed: dict[str, str], holds: object
) -> None:
    samples = accented.sample(SampleConfig(n=20, seed=0, max_len=6, **typed))  # type: ignore[arg-type]
    assert len(samples) == 20 and all(holds(s.name) for s in samples)  # type: ignore[operator]


def test_every_text_of_a_request_is_composed(accented: Sampler) -> None:
    wanted = accented.folded(SampleConfig(prompt=DECOMPOSED, ends_with=DECOMPOSED,
                                          contains=DECOMPOSED))
    assert (wanted.prompt, wanted.ends_with, wanted.contains) == (COMPOSED,) * 3
    unwanted = accented.folded(
        SampleConfig(exclude_chars=DECOMPOSED, exclude=frozenset({f"caf{DECOMPOSED}"}))
    )
    assert unwanted.exclude_chars == COMPOSED and unwanted.exclude == {f"caf{COMPOSED}"}


def test_a_blocklist_typed_decomposed_blocks_the_composed_name(accented: Sampler) -> None:
    greedy = SampleConfig(n=1, temperature=0, prompt=COMPOSED, max_len=4)
    blocked = accented.sample(greedy)[0].name
    typed = unicodedata.normalize("NFD", blocked)
    assert typed != blocked  # the blocklist's spelling differs from the name's
    config = replace(greedy, exclude=frozenset({typed}))
    assert blocked not in [s.name for s in accented.sample(config)]


def test_repair_treats_both_spellings_alike(accented: Sampler) -> None:
    repairer = Repairer.from_sampler(accented, budget_s=60.0)
    assert repairer.suggest(f"th{DECOMPOSED}") == repairer.suggest(f"th{COMPOSED}")
    best = repairer.suggest(f"caf{DECOMPOSED}")[0]  # a known word: the bonus puts it first
    assert (best.name, best.edits, best.source) == (f"caf{COMPOSED}", 0, "train")


# --- auto on a list the prior cannot read ---------------------------------------------------

LISTS = Path(__file__).resolve().parents[1] / "data"


def test_the_prior_knows_the_characters_auto_counts_on() -> None:
    from minigpt2.core.train.prior import load_prior

    assert set(load_prior().vocab.chars) == PRIOR_CHARS


def test_the_share_the_prior_knows_counts_characters_with_repeats() -> None:
    assert prior_known_share(["ab", "αβγδ"]) == pytest.approx(2 / 6)
    assert prior_known_share(["aaaa", "ω"]) == pytest.approx(4 / 5)
    assert prior_known_share([]) == 1.0


@pytest.mark.parametrize(
    ("source", "from_prior"),
    [
        (LISTS / "greek-names.txt", False),
        (LISTS / "cyrillic-names.txt", False),
        (LISTS / "mixed-names.txt", False),  # 29% Latin letters the prior knows
        (LISTS / "diacritic-names.txt", True),  # 93%: a few accented letters are new
        ("given-names", True),
    ],
)
def test_auto_starts_a_list_the_prior_cannot_read_from_scratch_for_longer(
    source: Path | str, from_prior: bool
) -> None:
    """The run a user gets (build_trainer, 30 s): the prior's recipe, or the adapted one."""
    trainer = build_trainer(TrainPlan(data=str(source), threads=1, sample_interval_s=0))
    config = trainer.config
    assert config.prior == from_prior
    if from_prior:
        assert (config.lr, config.epoch_cap) == (AUTO_LR_FROM_PRIOR, 10)
    else:
        assert (config.lr, config.epoch_cap) == (AUTO_LR, AUTO_NEW_ALPHABET_CAP)
        assert "from scratch: the prior knows" in chosen_preset(
            TrainPlan(data=str(source)), trainer.data
        ).description


def test_the_readme_documents_the_rule_for_a_new_alphabet() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme.split("### How `auto` chooses", 1)[1]
    row = next(line for line in section.splitlines() if line.startswith("| a list the prior"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert f"under {AUTO_PRIOR_KNOWN:.0%}" in cells[0]
    assert cells[6].startswith(str(AUTO_NEW_ALPHABET_CAP)) and cells[7] == "scratch"
    small = resolve_auto(5_000, 30.0, prior_known=AUTO_PRIOR_KNOWN - 0.01)
    assert (small.model.n_layer, small.model.d_model) == tuple(map(int, cells[2].split(" × ")))
