"""Every CLI command end to end, in a subprocess, as a script would run it."""

from __future__ import annotations

import json
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
    plain = minigpt2("sample", "--checkpoint", out, "--prompt", "ca", "-n", "7", "--seed", "1")
    assert plain.returncode == 0
    names = plain.stdout.split()
    assert len(names) == 7 and all(n.startswith("ca") for n in names)
    as_json = minigpt2(
        "sample", "--checkpoint", out, "--prompt", "ca", "-n", "7", "--seed", "1", "--json"
    )
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
