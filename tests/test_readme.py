"""The README cannot drift from the code: its command examples are run and their output
compared, its CLI table is checked against the parsers, and assets/README.md's account of
the shipped model against the file itself."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from minigpt2.core.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ASSETS_README = ROOT / "assets" / "README.md"
PROMPT = "$ minigpt2 "


def test_the_readme_stays_a_users_guide_of_at_most_300_lines() -> None:
    """The lab notebook and the contributor's guide live in docs/ (auto.md, benchmarks.md,
    architecture.md); the README keeps what a user needs."""
    assert len(README.read_text("utf-8").splitlines()) <= 300
    for page in ("auto.md", "benchmarks.md", "architecture.md", "mutation.md", "gpu.md"):
        assert f"(docs/{page})" in README.read_text("utf-8"), f"the README does not link {page}"


@pytest.mark.parametrize(
    "page", [README, ASSETS_README, *sorted((ROOT / "docs").glob("*.md"))],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_every_relative_link_names_a_file_that_exists(page: Path) -> None:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text("utf-8"))
    local = [link for link in links if "://" not in link]
    missing = [link for link in local if not (page.parent / link).exists()]
    assert not missing, f"{page.name} links to files that do not exist: {missing}"


# --- the command examples -------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    argv: tuple[str, ...]
    output: tuple[str, ...]  # the lines the README shows under the command

    @property
    def random(self) -> bool:
        """A draw without a seed: another run gives other names, so only its shape holds.
        Everything else the README shows is deterministic: scores and evaluations are
        arithmetic on the shipped weights, a seeded draw repeats itself (its first round
        always runs to its end, whatever the load: core/sample/rounds.py), and a repair's
        answer is the same whether its time budget is spent or not (checked when the examples
        were written: budgets of 0 and 100 s give the same candidates)."""
        return self.argv[0] == "sample" and "--seed" not in self.argv


def fenced_blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def readme_examples() -> list[Example]:
    """Each `$ minigpt2 ...` line of a fenced block, with the lines under it up to a blank
    line or the next command; a command shown without output is not an example."""
    examples = []
    for block in fenced_blocks(README.read_text("utf-8")):
        for index, line in enumerate(block):
            if not line.startswith(PROMPT):
                continue
            output = []
            for following in block[index + 1:]:
                if not following.strip() or following.startswith("$ "):
                    break
                output.append(following)
            if output:
                examples.append(Example(tuple(shlex.split(line[len(PROMPT):])), tuple(output)))
    return examples


def run_cli(argv: tuple[str, ...]) -> tuple[int, str]:
    """The command in this process (torch is imported once for all the examples)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code == 0, err.getvalue()
    return code, out.getvalue()


def test_the_readme_shows_examples_of_every_read_only_command() -> None:
    shown = {example.argv[0] for example in readme_examples()}
    assert {"sample", "score", "eval", "repair", "datasets"} <= shown
    assert any(example.random for example in readme_examples())  # the shape check is used


def json_shape(text: str) -> list[list[str]]:
    """A JSON list of records as the keys of each record, in order."""
    records = json.loads(text)
    assert isinstance(records, list)
    return [list(record) for record in records]


@pytest.mark.parametrize("example", readme_examples(), ids=lambda e: " ".join(e.argv))
def test_a_readme_example_prints_what_the_readme_shows(example: Example) -> None:
    _, printed = run_cli(example.argv)
    lines = printed.rstrip("\n").split("\n")
    if not example.random:
        assert lines == list(example.output)
    elif example.output[0].startswith("["):
        assert json_shape(printed) == json_shape("\n".join(example.output))
    else:
        assert len(lines) == len(example.output)


# --- the CLI table --------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """An option or argument as a synopsis shows it."""

    required: bool  # outside every [...]
    repeated: bool  # its [...] group ends with "..." (or, for an argument, "NAME...")


def synopsis_items(synopsis: str) -> dict[str, Shown]:
    """`--opt`, `-n` and ARGUMENT names of a synopsis such as
    `minigpt2 eval [--checkpoint CKPT] --data SRC [--category KIND[=W] ...] WORD...`."""
    items: dict[str, Shown] = {}
    opened: list[int] = []  # positions of the [ not yet closed
    closing = _closing_brackets(synopsis)
    for match in re.finditer(r"\[|\]|(?<![\w=-])(--?[a-z][a-z-]*|[A-Z][A-Z_]*(?:\.\.\.)?)",
                             synopsis):
        token = match.group(0)
        if token == "[":
            opened.append(match.start())
        elif token == "]":
            opened.pop()
        elif token.startswith("-"):
            group = synopsis[opened[0]:closing[opened[0]] + 1] if opened else ""
            items[token] = Shown(required=not opened, repeated=group.endswith("...]"))
        elif not opened and not _is_metavar(synopsis, match.start()):
            name = token.removesuffix("...")
            items[name] = Shown(required=True, repeated=token.endswith("..."))
    return items


def _closing_brackets(text: str) -> dict[int, int]:
    stack, pairs = [], {}
    for position, char in enumerate(text):
        if char == "[":
            stack.append(position)
        elif char == "]":
            pairs[stack.pop()] = position
    assert not stack, f"unbalanced brackets in {text!r}"
    return pairs


def _is_metavar(text: str, position: int) -> bool:
    """An upper-case word right after an option (`--data SRC`) is that option's value."""
    before = text[:position].rstrip().split(" ")[-1]
    return before.startswith("-")


def readme_cli_table() -> dict[str, str]:
    """The README's CLI table: each command (`train`; "" for bare `minigpt2`) and its
    synopsis."""
    rows: dict[str, str] = {}
    for line in README.read_text("utf-8").splitlines():
        found = re.match(r"\| `(minigpt2(?: [^`]*)?)` \|", line.replace("\\|", "|"))
        if found:
            synopsis = found.group(1)
            words = synopsis.split(" ")
            command = words[1] if len(words) > 1 and words[1][0].isalpha() else ""
            assert command not in rows, f"two rows for `minigpt2 {command}`"
            rows[command] = synopsis
    return rows


def parser_items(parser: argparse.ArgumentParser) -> dict[str, Shown]:
    """What a parser takes: each option by its longest name, each argument by its metavar."""
    items: dict[str, Shown] = {}
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        repeated = isinstance(action, argparse._AppendAction) or action.nargs in ("+", "*")
        if action.option_strings:
            name = max(action.option_strings, key=len)
            items[name] = Shown(required=action.required, repeated=repeated)
        else:
            items[str(action.metavar or action.dest).upper()] = Shown(True, repeated)
    return items


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(commands.choices)


def cli_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    top = {"": parser} if parser_items(parser) else {}  # bare `minigpt2`'s own options
    return {**top, **subparsers(parser)}


def test_the_cli_table_has_a_row_for_every_command_and_no_other() -> None:
    assert set(readme_cli_table()) == set(cli_parsers())


@pytest.mark.parametrize("command", sorted(cli_parsers()))
def test_the_cli_table_shows_every_option_as_the_parser_takes_it(command: str) -> None:
    shown = synopsis_items(readme_cli_table()[command])
    taken = parser_items(cli_parsers()[command])
    assert sorted(shown) == sorted(taken), f"minigpt2 {command}: options differ"
    for name, item in taken.items():
        assert shown[name].required == item.required, f"{name}: required is {item.required}"
        assert shown[name].repeated == item.repeated, f"{name}: repeated is {item.repeated}"


class _Captured(Exception):
    pass


def app_parser(monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser `minigpt2-tui` builds, caught as it starts parsing."""
    from minigpt2.tui import launch

    caught: list[argparse.ArgumentParser] = []

    def catch(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        caught.append(self)
        raise _Captured

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    with pytest.raises(_Captured):
        launch.parse_args([])
    return caught[0]


def test_the_apps_synopsis_shows_every_option(monkeypatch: pytest.MonkeyPatch) -> None:
    synopses = [
        line for block in fenced_blocks(README.read_text("utf-8")) for line in block
        if line.startswith("minigpt2-tui ")
    ]
    assert len(synopses) == 1
    assert synopsis_items(synopses[0]) == parser_items(app_parser(monkeypatch))


def test_the_synopsis_reader_sees_required_and_repeated_options() -> None:
    items = synopsis_items("minigpt2 x --data SRC [--seed N] [--category KIND[=W] ...] "
                           "[--a N | --b N] [-n N] WORD...")
    assert items == {
        "--data": Shown(True, False), "--seed": Shown(False, False),
        "--category": Shown(False, True), "--a": Shown(False, False),
        "--b": Shown(False, False), "-n": Shown(False, False), "WORD": Shown(True, True),
    }


# --- assets/README.md -----------------------------------------------------------------------


def test_assets_readme_describes_the_shipped_model() -> None:
    from minigpt2.core.checkpoint import load_checkpoint
    from minigpt2.core.data.words import default_checkpoint_path

    shipped = load_checkpoint(default_checkpoint_path())
    text = " ".join(ASSETS_README.read_text("utf-8").split("## The shipped model", 1)[1].split())
    config = shipped.model_config
    assert f"`{shipped.preset}` preset" in text
    assert " and ".join(f"`{kind}`" for kind in shipped.vocab.categories) in text
    assert f"{shipped.step:,} steps" in text and f"step {shipped.best_step:,}" in text
    assert f"validation loss {shipped.best_val_loss:.4f}" in text
    assert f"{config.n_layer} blocks {config.d_model} wide" in text
    assert f"{sum(t.numel() for t in shipped.model_state.values()):,} parameters" in text
    assert f"seed {shipped.train_config.seed}" in text
    assert shipped.optimizer_state is None and "no optimizer state" in text
    script = (ROOT / "scripts" / "train_default_model.sh").read_text("utf-8")
    assert f"--steps {shipped.step}" in script and "--preset auto" in script
