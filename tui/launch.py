"""The command line and what the app can start from (word lists, presets, the shipped
model): cheap, torch-free look-ups."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from minigpt2.core.config import PRESETS, Preset
from minigpt2.core.data.words import DatasetInfo, builtin_datasets, default_checkpoint_path
from minigpt2.tui.stores.favourites import default_favourites_path
from minigpt2.tui.stores.session import AUTOSAVE_INTERVAL_S

DARK, LIGHT = "textual-dark", "textual-light"
TABS = {"train": "train-tab", "explore": "explore-tab", "favourites": "favourites-tab"}


def available_datasets() -> list[DatasetInfo]:
    try:
        return builtin_datasets()
    except OSError:  # a broken install should not stop the app from opening
        return []


def available_presets() -> list[Preset]:
    return list(PRESETS.values())


def shipped_checkpoint() -> Path | None:
    path = default_checkpoint_path()
    return path if path.is_file() else None


@dataclass(frozen=True)
class LaunchOptions:
    """The command line, plus a few knobs that tests and the benchmark turn."""

    data: str | None = None
    checkpoint: Path | None = None
    preset: str | None = None
    favourites: Path | None = None
    fresh: bool = False  # start from the shipped model and default settings
    data_dir: Path | None = None  # the last model and settings; None: the user's data dir
    autosave_interval_s: float = AUTOSAVE_INTERVAL_S
    sample_seed: int = 0  # Explore's first seed; ctrl+r moves on to the next
    threads: int | None = None  # torch threads for training; None = the core's default
    theme: str = DARK
    # memory.tune_malloc and pause_collection as it starts, resume_collection once the first
    # names are on the screen, freeze_survivors once torch has loaded (the command line: on)
    freeze_gc: bool = False
    # The first names from numpy while torch loads (the command line: on). Off in tests by
    # default: the same seed gives other names in numpy than in torch, and snapshots wait
    # on names.
    quick_names: bool = False


def unwritable_reason(path: Path) -> str | None:
    """Why favourites could not be written to `path`, or None if they probably can."""
    if path.is_dir():
        return "it is a directory"
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return None


def parse_args(argv: list[str] | None = None) -> LaunchOptions:
    parser = argparse.ArgumentParser(
        prog="minigpt2-tui",
        description="Train a tiny GPT-2 on a word list and explore the names it invents.",
    )
    parser.add_argument("--data", metavar="SRC",
                        help="a built-in word list's name (e.g. seed) or a word file to train on")
    parser.add_argument("--checkpoint", metavar="CKPT", type=Path,
                        help="a trained model (.safetensors) to explore and train further")
    parser.add_argument("--preset", metavar="NAME",
                        help="model and training preset: "
                             + ", ".join(p.name for p in available_presets()))
    parser.add_argument("--favourites", metavar="FILE", type=Path,
                        help=f"where favourites are kept (default: {default_favourites_path()})")
    parser.add_argument("--fresh", action="store_true",
                        help="start from the shipped model and default settings, not the last "
                             "model and settings of this app")
    parser.add_argument("--light", action="store_true", help="start with the light theme")
    args = parser.parse_args(argv)
    return LaunchOptions(data=args.data, checkpoint=args.checkpoint, preset=args.preset,
                         favourites=args.favourites, fresh=args.fresh,
                         theme=LIGHT if args.light else DARK, freeze_gc=True, quick_names=True)


