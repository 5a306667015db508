"""Checks on the shipped word lists in assets/ and the README that documents them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from minigpt2.core.cli import main as cli

ASSETS = Path(__file__).resolve().parent.parent / "assets"
README = ASSETS / "README.md"
LIST_FILES = sorted(ASSETS.glob("*.txt"))
LIST_IDS = [path.stem for path in LIST_FILES]

MAX_LEN = 24
WORD_RE = re.compile(r"[a-z]+")
# Minimum entries by list name; any other list needs OTHER_MINIMUM. `seed` is checked exactly.
MINIMUMS = {"animals": 600, "fruits-vegetables": 400}
OTHER_MINIMUM = 500
ARTICLE_STARTS = {
    "animals": [
        "cat",
        "caracal",
        "capybara",
        "canary",
        "cavy",
        "caiman",
        "cacomistle",
        "caribou",
        "cassowary",
        "caterpillar",
        "dog",
    ],
    "fruits-vegetables": [
        "apple",
        "apricot",
        "avocado",
        "artichoke",
        "banana",
        "bilberry",
        "blackberry",
        "blueberry",
        "boysenberry",
        "breadfruit",
        "cantaloupe",
        "casaba",
    ],
}
# A README table row: | `name.txt` | 1234 | ...
README_ROW = re.compile(r"^\|\s*`?([A-Za-z0-9_.-]+\.txt)`?\s*\|\s*(\d+)\s*\|", re.MULTILINE)


def read_lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8").split("\n")[:-1]


def read_words(name: str) -> list[str]:
    return read_lines(ASSETS / f"{name}.txt")


def test_required_lists_exist() -> None:
    names = set(LIST_IDS)
    assert {"seed", "animals", "fruits-vegetables"} <= names
    assert len(names - {"seed", "animals", "fruits-vegetables"}) >= 3, "at least three naming sets"


@pytest.mark.parametrize("path", LIST_FILES, ids=LIST_IDS)
def test_file_format(path: Path) -> None:
    data = path.read_bytes()
    text = data.decode("utf-8")  # strict: raises on invalid UTF-8
    assert not text.startswith("\ufeff"), "no byte-order mark"
    assert "\r" not in text, "Unix line endings only"
    assert text.endswith("\n"), "file must end with a newline"
    lines = text.split("\n")[:-1]
    assert lines, "file is empty"
    for number, line in enumerate(lines, 1):
        assert line, f"line {number} is blank"
        assert line == line.strip(), f"line {number} has surrounding whitespace: {line!r}"


@pytest.mark.parametrize("path", LIST_FILES, ids=LIST_IDS)
def test_sorted_unique_charset(path: Path) -> None:
    lines = read_lines(path)
    assert len(set(lines)) == len(lines), "duplicates: " + ", ".join(
        sorted({w for w in lines if lines.count(w) > 1})
    )
    assert lines == sorted(lines), "lines are not sorted"
    bad = [w for w in lines if not WORD_RE.fullmatch(w)]
    assert not bad, f"characters outside a-z: {bad[:10]}"
    long = [w for w in lines if len(w) > MAX_LEN]
    assert not long, f"longer than {MAX_LEN}: {long[:10]}"


@pytest.mark.parametrize(
    "path",
    [p for p in LIST_FILES if p.stem != "seed"],
    ids=[name for name in LIST_IDS if name != "seed"],
)
def test_minimum_count(path: Path) -> None:
    """`seed` has no minimum of its own: test_seed_is_union checks it exactly."""
    minimum = MINIMUMS.get(path.stem, OTHER_MINIMUM)
    assert len(read_lines(path)) >= minimum


def test_seed_is_union() -> None:
    expected = sorted(set(read_words("animals")) | set(read_words("fruits-vegetables")))
    assert read_words("seed") == expected


@pytest.mark.parametrize("name", sorted(ARTICLE_STARTS))
def test_article_names_present(name: str) -> None:
    words = set(read_words(name))
    missing = [w for w in ARTICLE_STARTS[name] if w not in words]
    assert not missing, f"missing from {name}: {missing}"


def readme_counts() -> dict[str, int]:
    text = README.read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for file_name, count in README_ROW.findall(text):
        assert file_name not in counts, f"{file_name} is listed twice in the README"
        counts[file_name] = int(count)
    return counts


@pytest.mark.parametrize("path", LIST_FILES, ids=LIST_IDS)
def test_readme_documents_count(path: Path) -> None:
    counts = readme_counts()
    assert path.name in counts, f"{path.name} is not in the table in assets/README.md"
    assert counts[path.name] == len(read_lines(path)), f"README count for {path.name} is stale"


def test_readme_lists_only_existing_files() -> None:
    extra = set(readme_counts()) - {path.name for path in LIST_FILES}
    assert not extra, f"README lists files that do not exist: {sorted(extra)}"


@pytest.mark.cli
@pytest.mark.parametrize("name", LIST_IDS)
def test_cli_train_and_sample(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end through the CLI's entry point (in process: a subprocess per list would
    spend most of its time importing torch): a short training run, then sampling."""
    checkpoint = tmp_path / f"{name}.safetensors"
    assert (
        cli.main(
            [
                "train",
                "--data",
                name,
                "--steps",
                "30",
                "--quiet",
                "--threads",
                "1",
                "--out",
                str(checkpoint),
            ]
        )
        == 0
    )
    stdout_lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert stdout_lines, "train printed nothing on stdout"
    result = json.loads(stdout_lines[-1])
    assert {"train_loss", "val_loss"} <= result.keys()
    assert checkpoint.is_file()

    assert cli.main(["sample", "--checkpoint", str(checkpoint), "-n", "5", "--seed", "0"]) == 0
    names = capsys.readouterr().out.rstrip("\n").split("\n")
    assert len(names) == 5
    for line in names:
        assert WORD_RE.fullmatch(line), f"not a name made of a-z: {line!r}"


def test_builtin_datasets_count_the_words_of_each_list() -> None:
    from minigpt2.core.data.words import builtin_datasets, load_words

    infos = builtin_datasets()
    assert {info.name for info in infos} >= {"seed", "animals", "fruits-vegetables"}
    for info in infos:
        assert info.count == len(load_words(info.path)), info.name  # the lists hold no duplicates
