"""The CLI speaks up where a user needs a word: --version, help for a bare `minigpt2`, a
resume with nothing left to do, a list given twice, errors in one style that name the flag
typed, and the step of the weights a run kept."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest
from minigpt2.core.checkpoint import load_checkpoint
from minigpt2.core.cli.main import COMMANDS, main
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.words import WordListError
from minigpt2.core.train.plan import TrainPlan, plan_data

TINY_RUN = ["train", "--preset", "seed", "--threads", "1", "--quiet"]


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def small_list(tmp_path: Path) -> Path:
    """20 words: 16 train, one step of 16 per epoch, so every step is an epoch and validates."""
    words = tmp_path / "small.txt"
    words.write_text("\n".join(f"{a}{b}o" for a in "bcdfg" for b in "aeiu") + "\n")
    return words


# --- --version and a bare minigpt2 ---------------------------------------------------------


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"minigpt2 {metadata.version('minigpt2-tui')}\n"


def test_bare_minigpt2_prints_its_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main([], capsys)
    assert code == 2 and out == ""
    assert err.startswith("usage: minigpt2") and "required" not in err
    assert all(f"\n    {command} " in err for command in COMMANDS), err


# --- errors: one style, the user's flags ---------------------------------------------------

ERRORS = [  # (args, what the line must name); usage, contract and core errors alike
    (["frobnicate"], "invalid choice"),
    (["train", "--steps", "x"], "--steps"),
    (["train", "--epochs", "2", "--steps", "3"], "--steps"),
    (["train", "--time-budget", "0"], "--time-budget"),
    (["train", "--batch-size", "0"], "--batch-size"),
    (["train", "--lr", "-1"], "--lr"),
    (["train", "--resume", "{ckpt}", "--keep-case"], "--keep-case"),
    (["train", "--resume", "{ckpt}", "--val-data", "seed"], "--val-data"),
    (["score"], "WORD"),
    (["eval", "--data", "{tmp}/missing.txt"], "missing.txt"),
    (["repair", "cat", "-n", "0"], "-n"),
    (["score", "cat", "--category", "mineral"], "'mineral'"),
]


@pytest.mark.parametrize(("args", "named"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_every_error_is_one_line_in_one_style_naming_the_flag(
    args: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from minigpt2.core.data.words import default_checkpoint_path

    given = [a.format(tmp=tmp_path, ckpt=default_checkpoint_path()) for a in args]
    code, out, err = run_main([*given, "--out", str(tmp_path / "m.safetensors")]
                              if given[0] == "train" else given, capsys)  # fmt: skip
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("minigpt2: error: ") and named in line, line
    assert "_" not in line.replace(str(tmp_path), ""), line  # no internal field name


def test_a_refused_command_line_says_where_its_help_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, _, err = run_main(["train", "--steps", "x"], capsys)
    assert err.rstrip().endswith("; see minigpt2 train --help"), err
    _, _, err = run_main(["frobnicate"], capsys)
    assert err.rstrip().endswith("; see minigpt2 --help"), err


# --- a list given twice ----------------------------------------------------------------------


def test_the_same_list_twice_is_refused_by_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.safetensors"
    code, stdout, err = run_main(
        [*TINY_RUN, "--steps", "1", "--data", "fruits-vegetables", "--data", "animals",
         "--data", "fruits-vegetables", "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 2 and stdout == "" and not out.exists()
    assert err == (
        "minigpt2: error: fruits-vegetables is given twice; give each list once\n"
    )


def test_one_file_by_two_paths_is_the_same_list(
    small_list: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    link = tmp_path / "link.txt"
    link.symlink_to(small_list)
    for other in ("small.txt", str(link)):
        code, _, err = run_main(
            [*TINY_RUN, "--steps", "1", "--data", str(small_list), "--data", other], capsys
        )
        assert code == 2 and f"{small_list} and {other} are the same list" in err, err


def test_the_same_list_twice_is_refused_for_the_app_too(small_list: Path) -> None:
    """The app builds a TrainPlan (or reads WordData.from_source at start-up): same refusal."""
    with pytest.raises(WordListError, match="animals is given twice"):
        plan_data(TrainPlan(data=("animals", "animals")))
    with pytest.raises(WordListError, match="same list"):
        WordData.from_source([small_list, f"{small_list.parent}/./{small_list.name}"])
    two = WordData.from_source(["animals", small_list])  # two lists are still two kinds
    assert two.categories == ["animals", "small"]


# --- a resume with nothing left to do --------------------------------------------------------


@pytest.fixture
def two_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "run.safetensors"
    code, _, err = run_main([*TINY_RUN, "--steps", "2", "--out", str(out)], capsys)
    assert code == 0, err
    return out


@pytest.mark.parametrize("steps", ["2", "1"])
def test_resume_with_nothing_left_says_so_and_writes_nothing(
    two_steps: Path, steps: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = two_steps.read_bytes(), two_steps.stat().st_mtime_ns
    other = tmp_path / "other.safetensors"
    for out in ([], ["--out", str(other)]):
        code, stdout, err = run_main(
            ["train", "--resume", str(two_steps), "--steps", steps, "--quiet", *out], capsys
        )
        assert code == 0 and stdout == ""
        (line,) = err.splitlines()
        assert line.startswith("minigpt2: nothing to do:") and "at step 2" in line, line
        assert f"ends at step {steps}" in line
    assert (two_steps.read_bytes(), two_steps.stat().st_mtime_ns) == saved
    assert not other.exists()


def test_resume_with_epochs_already_done_says_so(
    small_list: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run.safetensors"
    trained = [*TINY_RUN, "--data", str(small_list), "--epochs", "2", "--out", str(out)]
    code, summary, err = run_main(trained, capsys)
    assert code == 0 and json.loads(summary)["steps"] == 2, err
    code, stdout, err = run_main(["train", "--resume", str(out), "--epochs", "2"], capsys)
    assert code == 0 and stdout == "" and "nothing to do" in err
    code, stdout, err = run_main(["train", "--resume", str(out), "--epochs", "3", "--quiet"],
                                 capsys)  # fmt: skip
    assert code == 0 and json.loads(stdout)["steps"] == 3, err  # with work left it trains


# --- the step of the best weights ------------------------------------------------------------


def test_train_summary_gives_the_step_of_the_weights_it_kept(
    small_list: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run validating at every step, at a rate high enough that later steps can be worse:
    the summary's best_step is the step with the lowest validation loss, whose weights the
    checkpoint holds."""
    out = tmp_path / "run.safetensors"
    run = [*TINY_RUN, "--data", str(small_list), "--steps", "8", "--lr", "0.3"]
    code, stdout, err = run_main([*run, "--out", str(out)], capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    ckpt = load_checkpoint(out)
    best = min(ckpt.history, key=lambda row: row["val_loss"])
    assert len(ckpt.history) == 8
    assert summary["best_step"] == best["step"] == ckpt.best_step
    assert summary["steps"] == 8
