"""One declaration per sampling option: each SampleConfig field's Option drives the CLI's
argument, Explore's control, case folding and what a favourite keeps; a CLI flag that does
not apply says so; errors name the flag; and an option is named in few source files."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from minigpt2.core.cli.main import build_parser, main
from minigpt2.core.sample.constraints import ImpossibleConstraints, Steering
from minigpt2.core.sample.request import (
    DEFAULT_GUIDANCE,
    Applies,
    Control,
    Option,
    SampleConfig,
    options,
)
from minigpt2.tui.stores.favourites import NOT_KEPT, Favourite, favourite_settings
from minigpt2.tui.widgets.explore import settings as explore_settings

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ("text", "whole", "number", "switch")


def sample_parser():  # noqa: ANN201 - argparse's private subparser type
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    return commands.choices["sample"]


@pytest.mark.parametrize("field", dataclasses.fields(SampleConfig), ids=lambda f: f.name)
def test_every_field_declares_its_option(field: dataclasses.Field) -> None:
    option = field.metadata.get("option")
    assert isinstance(option, Option), f"{field.name}: no Option"
    assert option.flag.startswith("-") and option.label and option.help, field.name
    assert isinstance(option.applies, Applies) and option.applies.when, field.name
    assert isinstance(option.folds, bool) and isinstance(option.control, Control), field.name
    assert field.default is not dataclasses.MISSING, f"{field.name}: no default"
    if option.default is not None:  # a person's default is a valid value
        SampleConfig(**{field.name: option.default})
    if option.control.kind in WIDGETS:
        assert option.control.id, f"{field.name}: an Explore control without an id"


def test_the_sample_command_has_a_flag_for_every_option() -> None:
    flags = {flag: action.dest for action in sample_parser()._actions
             for flag in action.option_strings}
    for name, option in options().items():
        assert option.flag in flags, name
        if option.cli == "argument":  # built from the declaration, into the field itself
            assert flags[option.flag] == name


def test_explore_has_a_control_for_every_widget_option() -> None:
    shown = {**explore_settings.TEXTS, **explore_settings.NUMBERS, **explore_settings.SWITCHES}
    widgets = {name for name, option in options().items() if option.control.kind in WIDGETS}
    assert set(shown) == widgets and "exclude_chars" in widgets
    ids = [option.control.id for option in shown.values()]
    assert len(ids) == len(set(ids))


def test_each_folding_option_is_folded_and_no_other() -> None:
    texts = {"prompt": "Ma", "ends_with": "A", "contains": "R", "exclude_chars": "QZ",
             "exclude": frozenset({"MARA"}), "like": ("Kora",)}
    config = SampleConfig(**texts).folded_with(str.lower)
    folding = {name for name, option in options().items() if option.folds}
    assert folding == set(texts)
    for name in texts:
        value = getattr(config, name)
        items = [value] if isinstance(value, str) else list(value)
        assert all(item == item.lower() for item in items), name


def test_a_favourite_keeps_every_setting_and_gives_it_back() -> None:
    request = SampleConfig(prompt="ma", n=7, temperature=0.8, top_k=5, min_len=3, max_len=9,
                           ends_with="a", contains="r", exclude_chars="z", exclude={"mara"},
                           seed=4, novel_only=True, most_likely=True, rank="per_char",
                           kinds={"animals": 0.7, "fruits": 0.3}, guidance=2.0,
                           like=("kora",), include_cut=True, unique=True)
    kept = favourite_settings(request)
    assert set(kept) == {f.name for f in dataclasses.fields(SampleConfig)} - NOT_KEPT
    again = SampleConfig.from_dict(kept)
    assert again == dataclasses.replace(request, exclude=frozenset())
    summary = Favourite("maria", "", "ma", {**kept, "model": "tiny"}).describe_settings()
    for part in ("T 0.8", "top-k 5", "seed 4", "ends-with a", "exclude-chars z",
                 "kind animals 0.7 + fruits 0.3", "like kora", "tiny model"):
        assert part in summary, summary


def test_guidance_defaults_once_with_a_kind() -> None:
    assert SampleConfig.asked(category="animals").guidance == DEFAULT_GUIDANCE
    assert SampleConfig.asked().guidance == 0
    assert SampleConfig.asked(category="animals", guidance=0.5).guidance == 0.5
    assert SampleConfig().guidance == 0  # the core's own default is unchanged


# --- the CLI speaks up -----------------------------------------------------------------------

WARNED = [
    (["--guidance", "1"], "--guidance"),
    (["--rank", "per-char"], "--rank"),
    (["--most-likely", "--temperature", "0.5"], "--temperature"),
    (["--most-likely", "--top-k", "3"], "--top-k"),
    (["--most-likely", "--top-p", "0.9"], "--top-p"),
]


@pytest.mark.parametrize(("args", "flag"), WARNED, ids=[a[-2] for a, _ in WARNED])
def test_an_option_that_does_not_apply_gets_one_warning_line(
    args: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sample", "-n", "2", "--seed", "0", *args])
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert code == 0
    assert len(warnings) == 1 and flag in warnings[0] and "applies only" in warnings[0], err


@pytest.mark.parametrize("args", [["--rank", "per-char", "--most-likely"],
                                  ["--rank", "per-char", "--sort"],
                                  ["--temperature", "0.5", "--top-k", "3"]])
def test_an_option_that_applies_gets_no_warning(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sample", "-n", "2", "--seed", "0", *args]) == 0
    assert "warning" not in capsys.readouterr().err


def test_errors_name_the_flag_not_the_field() -> None:
    with pytest.raises(ValueError, match="--exclude-chars") as info:
        SampleConfig(exclude_chars="abc", contains="b")
    assert "--contains" in str(info.value)
    config = SampleConfig(contains="abc", ends_with="pqr", exclude_chars="xyz")
    with pytest.raises(ImpossibleConstraints) as impossible:
        Steering(config, "abcpqrxyz", 5).check()
    message = str(impossible.value)
    assert "--contains 'abc'" in message and "--exclude-chars 'xyz'" in message
    assert "exclude_chars" not in message and "ends_with" not in message
    for bad, flag in (({"n": 0}, "-n"), ({"top_k": 0}, "--top-k"), ({"time_limit_s": 0},
                      "--time-limit"), ({"rank": "best"}, "--rank")):
        with pytest.raises(ValueError, match=flag):
            SampleConfig(**bad)


# --- an option is named in few places --------------------------------------------------------

DECLARATION = "core/sample/request.py"
ENFORCEMENT = "core/sample/"  # the samplers, the search, the steering: one place
# Files that name an option beyond the declaration, the enforcement and one more, and why.
# Most share a common word with other things (a training seed, repair's -n, a favourite's
# prompt column); the rest are the front ends passing what they own themselves (Explore's
# prompt line, seed, examples and kinds; the CLI's --like-file and --category). The test
# holds each list to what it is: a new file naming one of them fails it.
NAMED_BEYOND = {
    "seed": {"core/cli/main.py", "core/train/evaluate.py", "core/train/trainer.py",
             "tui/widgets/explore/pane.py", "tui/widgets/explore/settings.py"},
    "n": {"core/cli/main.py", "core/cli/repair.py", "core/train/trainer.py",
          "tui/widgets/explore/pane.py"},
    "prompt": {"tui/stores/favourites.py", "tui/widgets/explore/pane.py",
               "tui/widgets/explore/settings.py", "tui/widgets/favourites/pane.py"},
    "kinds": {"core/cli/main.py", "core/cli/repair.py", "tui/widgets/explore/pane.py",
              "tui/widgets/explore/settings.py"},
    "like": {"core/cli/main.py", "tui/stores/favourites.py", "tui/widgets/explore/pane.py",
             "tui/widgets/explore/settings.py"},
    "time_limit_s": {"core/cli/main.py", "tui/widgets/explore/settings.py"},
    "category": {"core/cli/repair.py", "tui/widgets/explore/pane.py",
                 "tui/widgets/explore/settings.py"},
    "max_len": {"core/train/evaluate.py", "core/train/trainer.py"},  # a word's length limit
    "exclude": {"tui/stores/favourites.py", "tui/widgets/explore/settings.py"},
    "most_likely": {"core/cli/main.py", "tui/widgets/explore/pane.py"},
}


def places_naming(name: str, option: Option) -> set[str]:
    """The source files under core/ and tui/ that can hold a request (they import
    request.py) and name the option as an attribute, a keyword or a string (its field name
    or its flag); the enforcement's files count as one place."""
    places = set()
    for path in sorted([*ROOT.glob("core/**/*.py"), *ROOT.glob("tui/**/*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        text = path.read_text("utf-8")
        if relative != DECLARATION and "core.sample.request" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            named = ((isinstance(node, ast.Attribute) and node.attr == name)
                     or (isinstance(node, ast.keyword) and node.arg == name)
                     or (isinstance(node, ast.Constant) and node.value in (name, option.flag)))
            if named:
                enforcing = relative.startswith(ENFORCEMENT) and relative != DECLARATION
                places.add(ENFORCEMENT if enforcing else relative)
                break
    return places


@pytest.mark.parametrize("name", list(options()))
def test_an_option_is_named_in_at_most_three_places(name: str) -> None:
    places = places_naming(name, options()[name])
    assert DECLARATION in places
    beyond = places - {DECLARATION, ENFORCEMENT} - NAMED_BEYOND.get(name, set())
    assert len(beyond) <= 1, f"{name} is named in {sorted(places)}"
    if name in NAMED_BEYOND:  # the list is what it is: none of it stale
        assert NAMED_BEYOND[name] <= places, sorted(places)
