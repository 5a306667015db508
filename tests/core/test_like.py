"""Names like a few examples: `minigpt2 sample --like NAME ...` (like.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from minigpt2.core.cli.main import main
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.beam import NextLogprobs
from minigpt2.core.sample.request import MAX_LIKE_EXAMPLES, SampleConfig
from minigpt2.core.sample.sampler import Sampler

IX = ("dravix", "pelonix", "murnix", "tavix", "sorbix")  # an ending none of the lists has
KW = ("kwamel", "kwiro", "kwandu", "kwessa", "kwolt")  # nor this start


@pytest.fixture(scope="module")
def shipped() -> Sampler:
    return Sampler.from_checkpoint(default_checkpoint_path())


def trait_share(names: list[str], has: str, where: str) -> float:
    test = str.endswith if where == "end" else str.startswith
    return sum(test(name, has) for name in names) / max(len(names), 1)


@pytest.mark.parametrize(("examples", "has", "where"), [(IX, "ix", "end"), (KW, "kw", "start")])
def test_names_like_five_examples_share_their_trait(
    shipped: Sampler, examples: tuple[str, ...], has: str, where: str
) -> None:
    plain = [s.name for s in shipped.sample(SampleConfig(n=200, seed=1, time_limit_s=None))]
    liked = shipped.sample(SampleConfig(n=200, seed=2, like=examples, time_limit_s=None))
    names = [s.name for s in liked]
    share = trait_share(names, has, where)
    assert share >= 0.25 and share >= 5 * trait_share(plain, has, where), names[:20]
    assert not set(names) & set(examples)  # an example is never offered back
    assert sum(s.source == "novel" for s in liked) >= 0.9 * len(liked)
    words = shipped.train_words | shipped.val_words
    assert trait_share(sorted(words), has, where) < 0.01  # the model's lists lack the trait


def test_names_like_examples_on_a_small_model_trained_here(trained_path: Path) -> None:
    sampler = Sampler.from_checkpoint(trained_path)
    examples = ("melbit", "carbit", "dombit", "perbit", "lanbit")
    plain = [s.name for s in sampler.sample(SampleConfig(n=200, seed=1, time_limit_s=None))]
    liked = [s.name for s in sampler.sample(SampleConfig(n=200, seed=2, like=examples,
                                                          time_limit_s=None))]
    share = trait_share(liked, "bit", "end")
    assert share >= 0.25 and share >= 5 * trait_share(plain, "bit", "end"), liked[:20]


def test_a_stronger_lean_gives_more_of_the_trait(shipped: Sampler) -> None:
    shares = []
    for strength in (0.0, 1.0):
        config = SampleConfig(n=200, seed=2, like=IX, like_strength=strength, time_limit_s=None)
        shares.append(trait_share([s.name for s in shipped.sample(config)], "ix", "end"))
    assert shares[1] > shares[0]


def test_examples_combine_with_kinds_and_constraints(shipped: Sampler) -> None:
    config = SampleConfig(n=30, seed=3, like=KW, ends_with="a", max_len=8, novel_only=True,
                          kinds={"animals": 0.5, "fruits-vegetables": 0.5}, guidance=2.0,
                          time_limit_s=None)
    samples = shipped.sample(config)
    assert len(samples) == 30 and all(config.accepts(s.name, s.source) for s in samples)
    assert trait_share([s.name for s in samples], "kw", "start") >= 0.25
    mix = {"animals": 0.5, "fruits-vegetables": 0.5}
    for sample in samples[:5]:  # the model's own log-probability, as score() gives it
        assert sample.logprob == pytest.approx(shipped.score(sample.name, mix).logprob, abs=1e-4)


def test_the_most_likely_names_like_examples(shipped: Sampler) -> None:
    config = SampleConfig(n=10, most_likely=True, like=IX, time_limit_s=None)
    names = [s.name for s in shipped.sample(config)]
    assert len(names) == 10 and not set(names) & set(IX)
    assert trait_share(names, "ix", "end") >= 0.5, names


def test_the_search_reads_the_lean_as_sampling_does(shipped: Sampler) -> None:
    vocab = shipped.vocab
    plain = shipped.search_logprobs(SampleConfig())
    liked = shipped.search_logprobs(SampleConfig(like=IX))
    i, x = vocab.index["i"], vocab.index["x"]
    with torch.inference_mode():
        check_the_lean(plain, liked, vocab.encode, i, x, vocab.index["v"])


def check_the_lean(plain: NextLogprobs, liked: NextLogprobs, encode: Callable[[str], list[int]],
                   i: int, x: int, v: int) -> None:
    for search in (plain, liked):
        search.start([1, *encode("ta")])
    after_tav = [s.step(torch.tensor([0]), torch.tensor([v])) for s in (plain, liked)]
    assert float(after_tav[1][0, i]) > float(after_tav[0][0, i]) + 1  # "tav" goes on as "tavix"
    after_tavi = [s.step(torch.tensor([0]), torch.tensor([i])) for s in (plain, liked)]
    assert float(after_tavi[1][0, x]) > float(after_tavi[0][0, x]) + 1  # and ends as they do
    assert torch.allclose(after_tavi[1].exp().sum(-1), torch.ones(1), atol=1e-5)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_takes_examples_and_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    listed = tmp_path / "liked.txt"
    listed.write_text("\n".join(IX[2:]) + "\n\n", encoding="utf-8")
    code, out, _ = run(capsys, "sample", "--like", IX[0], "--like", IX[1], "--like-file",
                       str(listed), "-n", "5", "--seed", "1", "--json", "--time-limit", "5")
    records = json.loads(out)
    assert code == 0 and len(records) == 5
    assert all(r["like"] == {"examples": 5, "strength": 0.0} for r in records)


def test_more_than_a_thousand_examples_are_capped_with_a_note(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    many = tmp_path / "many.txt"
    names = [f"{a}{b}{c}ix" for a in "bdfgklmnpr" for b in "aeiou" for c in "lmnrstvz"]
    many.write_text("\n".join(names[:1100]), encoding="utf-8")
    assert len(names) >= 400 and SampleConfig(like=tuple(names) * 3).like == tuple(names)
    code, out, err = run(capsys, "sample", "--like-file", str(many), "--like", "zorbix",
                         "--like", "zarbix", "--like", "zirbix", "-n", "3", "--seed", "1",
                         "--time-limit", "5")
    assert code == 0 and len(out.split()) == 3
    capped = len(SampleConfig(like=tuple(f"n{i:04d}" for i in range(1500))).like)
    assert capped == MAX_LIKE_EXAMPLES
    more = tmp_path / "more.txt"
    more.write_text("\n".join(f"a{i:04d}" for i in range(1200)).translate(
        str.maketrans("0123456789", "bcdfghjklm")), encoding="utf-8")
    code, _, err = run(capsys, "sample", "--like-file", str(more), "-n", "2", "--seed", "1")
    assert code == 0 and f"using the first {MAX_LIKE_EXAMPLES}" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--like-file", "{empty}"], "no words"),
        (["--like-file", "{missing}"], "cannot read"),
        (["--like-file", "{folder}"], "cannot read"),
        (["--like", "zoë"], "'ë', which the model does not know"),
        (["--like", "   "], "an empty example name"),
        (["--like", "tavix", "--like-strength", "-1"], "like strength must be 0 or more"),
        (["--like", "tavix", "--like-strength", "nan"], "like strength must be 0 or more"),
        (["--like", "tavix", "--like-strength", "inf"], "like strength must be 0 or more"),
        (["--like-strength", "1"], "needs example names"),
        (["--like", "x" * 40], "longer than this model's"),
    ],
)
def test_bad_examples_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: list[str], message: str
) -> None:
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    paths = {"empty": tmp_path / "empty.txt", "missing": tmp_path / "nope.txt",
             "folder": tmp_path}
    code, out, err = run(capsys, "sample", *(f.format(**paths) for f in flags))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
