"""Every CLI command end to end, in a subprocess, as a script would run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest


def minigpt2(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minigpt2.core.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_datasets_lists_builtin_lists_with_counts() -> None:
    result = minigpt2("datasets")
    assert result.returncode == 0
    rows = {line.split()[0]: int(line.split()[1]) for line in result.stdout.splitlines()}
    assert rows["seed"] > 900 and rows["animals"] >= 600


def test_presets() -> None:
    result = minigpt2("presets")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["auto", "seed", "default", "large"]


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("cli") / "model.safetensors"
    result = minigpt2(
        "train",
        "--data",
        "seed",
        "--preset",
        "seed",
        "--epochs",
        "2",
        "--threads",
        "1",
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout.splitlines()[-1])


def test_train_prints_a_json_summary(cli_model: tuple[Path, dict]) -> None:
    out, summary = cli_model
    assert out.is_file()
    assert summary["preset"] == "seed" and summary["epochs"] == 2
    for key in ("params", "steps", "wall_s", "train_loss", "val_loss", "tokens_per_s"):
        assert summary[key] > 0


def test_train_resume_continues_the_step_count(
    cli_model: tuple[Path, dict], tmp_path: Path
) -> None:
    out, summary = cli_model
    resumed = tmp_path / "resumed.safetensors"
    result = minigpt2("train", "--resume", out, "--epochs", "3", "--out", resumed, "--quiet")
    assert result.returncode == 0, result.stderr
    again = json.loads(result.stdout)
    assert again["steps"] == summary["steps"] * 3 // 2 and again["epochs"] == 3


def test_sample_plain_and_json(cli_model: tuple[Path, dict]) -> None:
    out, _ = cli_model
    # A young model's names run long: a generous time limit, so a busy machine finds all 7.
    request = ("--prompt", "ca", "-n", "7", "--seed", "1", "--time-limit", "60")
    plain = minigpt2("sample", "--checkpoint", out, *request)
    assert plain.returncode == 0
    names = plain.stdout.split()
    assert len(names) == 7 and all(n.startswith("ca") for n in names)
    as_json = minigpt2("sample", "--checkpoint", out, *request, "--json")
    rows = json.loads(as_json.stdout)
    assert [r["name"] for r in rows] == names
    assert all(r["source"] in {"novel", "train", "val"} and r["logprob"] < 0 for r in rows)


def test_eval_and_score(cli_model: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = cli_model
    words = tmp_path / "words.txt"
    words.write_text("cat\ndog\n")
    result = minigpt2("eval", "--checkpoint", out, "--data", words)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "loss": pytest.approx(json.loads(result.stdout)["loss"]),
        "words": 2,
        "tokens": 8,
    }
    scored = minigpt2("score", "--checkpoint", out, "--json", "cat", "dog")
    assert [row["word"] for row in json.loads(scored.stdout)] == ["cat", "dog"]


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--data", "no-such-list"],
        ["train", "--preset", "huge"],
        ["train", "--epochs", "0"],
        ["sample", "--checkpoint", "missing.safetensors"],
        ["frobnicate"],
    ],
)
def test_errors_exit_2_with_one_line(args: list[str], tmp_path: Path) -> None:
    result = minigpt2(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_unknown_prompt_character_is_an_error_not_a_crash(cli_model: tuple[Path, dict]) -> None:
    out, _ = cli_model
    result = minigpt2("sample", "--checkpoint", out, "--prompt", "c#t")
    assert result.returncode == 2 and "'#'" in result.stderr


def test_corrupt_checkpoint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    result = minigpt2("sample", "--checkpoint", bad)
    assert result.returncode == 2 and "bad.safetensors" in result.stderr


# --- bad input: every numeric option of every command ------------------------------------

FAST_TRAIN = ["train", "--preset", "seed", "--steps", "1", "--quiet"]
BOUNDS = {"--epochs", "--steps", "--time-budget"}  # one at most: no --steps beside them
NUMERIC = {
    "train": ["--epochs", "--steps", "--time-budget", "--batch-size", "--lr", "--seed",
              "--threads"],
    "sample": ["-n", "--temperature", "--top-k", "--top-p", "--min-len", "--max-len",
               "--time-limit", "--seed"],
}
VALID = {("sample", "--temperature", "0"), ("sample", "--seed", "0"), ("train", "--seed", "0")}
SWEEP = [
    (command, option, value)
    for command, options in NUMERIC.items()
    for option in options
    for value in ("0", "-1", "nan", "inf", "-inf", "1e999", "x")
]


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The CLI in this process: the same code path as the installed script, without the
    second of starting Python and torch for each of the many cases."""
    from minigpt2.core.cli.main import main

    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("command", "option", "value"), SWEEP)
def test_every_numeric_option_out_of_range_exits_2_with_one_line(
    command: str, option: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if command == "train":
        base = FAST_TRAIN if option not in BOUNDS else FAST_TRAIN[:3] + ["--quiet"]
        args = [*base, "--out", str(tmp_path / "m.safetensors"), option, value]
    else:
        args = ["sample", "-n", "3", option, value]
    code, _, err = run_main(args, capsys)
    if (command, option, value) in VALID:
        assert code == 0, err
    else:
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err


CONTRACT = [  # every exit-2 path the README promises: one line naming the problem
    (["frobnicate"], "invalid choice"),
    (["train", "--data", "no-such-list"], "no such file"),
    (["train", "--preset", "huge"], "invalid choice"),
    (["train", "--epochs", "2", "--steps", "3"], "not allowed with"),
    (["train", "--data", "{empty}"], "no words"),
    (["train", "--out", "{tmp}/no/such/dir/m.safetensors"], "does not exist"),
    (["train", "--out", "{tmp}"], "is a folder"),
    (["train", "--resume", "{ckpt}", "--data", "seed"], "drop --data"),
    (["train", "--resume", "{ckpt}", "--preset", "seed"], "drop --preset"),
    (["train", "--resume", "{tmp}/missing.safetensors"], "no such checkpoint"),
    (["sample", "--checkpoint", "{tmp}/missing.safetensors"], "no such checkpoint"),
    (["sample", "--checkpoint", "{corrupt}"], "corrupt"),
    (["sample", "--prompt", "c#t"], "'#'"),
    (["sample", "--ends-with", "#"], "'#'"),
    (["sample", "--min-len", "6", "--max-len", "4"], "above max-len"),
    (["sample", "--ends-with", "berry", "--max-len", "3"], "longer than max-len"),
    (["sample", "--max-len", "3", "--contains", "abc", "--ends-with", "xyz"], "no name"),
    (["sample", "--exclude", "{tmp}/missing.txt"], "no such file"),
    (["sample", "--rank", "best"], "invalid choice"),
    (["eval", "--data", "{tmp}/missing.txt"], "no such file"),
    (["eval"], "required"),
    (["score"], "required"),
    (["score", "x" * 80], "longer than"),
]


@pytest.mark.parametrize(
    ("args", "message"), CONTRACT, ids=[" ".join(args)[:40] for args, _ in CONTRACT]
)
def test_contract_errors_exit_2_with_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from minigpt2.core.data.words import default_checkpoint_path

    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    paths = {"tmp": tmp_path, "empty": empty, "corrupt": corrupt,
             "ckpt": default_checkpoint_path()}
    code, out, err = run_main([a.format(**paths) for a in args], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_out_in_a_read_only_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        if os.access(readonly, os.W_OK):
            pytest.skip("this user can write anywhere (root)")
        code, _, err = run_main([*FAST_TRAIN, "--out", str(readonly / "m.safetensors")], capsys)
    finally:
        readonly.chmod(0o700)
    assert code == 2 and "not writable" in err


# --- constraints and the most likely names through the CLI --------------------------------


def test_sample_constraints_json_says_which_applied(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(
        ["sample", "-n", "40", "--seed", "0", "--ends-with", "a", "--min-len", "4",
         "--max-len", "7", "--exclude-chars", "z", "--json"],
        capsys,
    )
    rows = json.loads(out)
    assert code == 0 and len(rows) == 40
    assert all(r["name"].endswith("a") and 4 <= len(r["name"]) <= 7 for r in rows)
    assert all("z" not in r["name"] and r["cut"] is False for r in rows)
    assert rows[0]["constraints"] == {"ends_with": "a", "min_len": 4, "max_len": 7,
                                      "exclude_chars": "z"}


def test_exclude_file_is_a_blocklist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, first, _ = run_main(["sample", "-n", "30", "--seed", "0", "--max-len", "4"], capsys)
    blocked = sorted(set(first.split()))
    blocklist = tmp_path / "taken.txt"
    blocklist.write_text("\n".join(name.upper() for name in blocked) + "\n")
    code, out, _ = run_main(
        ["sample", "-n", "30", "--seed", "0", "--max-len", "4", "--exclude", str(blocklist)],
        capsys,
    )
    assert code == 0 and len(out.split()) == 30 and not set(out.split()) & set(blocked)


def test_most_likely_novel_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["sample", "--most-likely", "--novel-only", "-n", "5", "--json"],
                            capsys)
    rows = json.loads(out)
    assert code == 0 and len(rows) == 5 and all(r["source"] == "novel" for r in rows)
    assert [r["logprob"] for r in rows] == sorted((r["logprob"] for r in rows), reverse=True)


def test_capital_prompts_and_words_are_folded(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["sample", "--prompt", "CA", "-n", "5", "--seed", "0"], capsys)
    assert code == 0 and all(name.startswith("ca") for name in out.split())
    code, out, _ = run_main(["score", "CAT", "cat"], capsys)
    first, second = out.splitlines()
    assert code == 0 and first == second


# --- Ctrl-C during training saves the run ------------------------------------------------


def test_ctrl_c_during_training_stops_and_saves(tmp_path: Path) -> None:
    out = tmp_path / "interrupted.safetensors"
    process = subprocess.Popen(
        [sys.executable, "-m", "minigpt2.core.cli", "train", "--preset", "seed",
         "--steps", "10000000", "--threads", "1", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        line = process.stderr.readline()  # printed once the handler is in place
        assert "Ctrl-C stops and saves" in line, line
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()  # a run the signal did not stop must not outlive the test
    assert process.returncode == 0, stderr
    summary = json.loads(stdout.splitlines()[-1])
    assert summary["stopped_early"] is True and summary["steps"] < 10_000_000
    assert out.is_file()
    from minigpt2.core.checkpoint import load_checkpoint

    assert load_checkpoint(out).step == summary["steps"]


def test_eval_folds_case_like_the_training_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lower, upper = tmp_path / "lower.txt", tmp_path / "upper.txt"
    lower.write_text("cat\ndog\n")
    upper.write_text("CAT\nDog\n")
    results = [run_main(["eval", "--data", str(path)], capsys) for path in (lower, upper)]
    assert results[0][0] == 0 and results[0] == results[1]


def test_eval_loss_is_the_mean_score_per_token_to_four_places(
    cli_model: tuple[Path, dict], tmp_path: Path
) -> None:
    from minigpt2.core.sample.sampler import Sampler

    out, _ = cli_model
    words = tmp_path / "words.txt"
    words.write_text("cat\ndog\n")
    loss = json.loads(minigpt2("eval", "--checkpoint", out, "--data", words).stdout)["loss"]
    sampler = Sampler.from_checkpoint(out)
    logprobs = [sampler.score(word).logprob for word in ("cat", "dog")]
    # Each word is its 3 characters and the end token: 8 tokens in all.
    assert loss == round(loss, 4) and abs(loss - -sum(logprobs) / 8) <= 5e-5 + 1e-6


def test_train_summary_gives_losses_to_four_places(cli_model: tuple[Path, dict]) -> None:
    out, summary = cli_model
    from minigpt2.core.checkpoint import load_checkpoint
    from minigpt2.core.train.evaluate import evaluate_words

    ckpt = load_checkpoint(out)
    held_out, _ = evaluate_words(ckpt.build_model("cpu"), ckpt.vocab, sorted(ckpt.val_words))
    for key in ("train_loss", "val_loss"):
        assert summary[key] == round(summary[key], 4), key
    assert abs(summary["val_loss"] - held_out) <= 5e-5 + 1e-6  # the saved (best) weights' loss
