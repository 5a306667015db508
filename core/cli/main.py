"""`minigpt2`: the headless command line over the core (train, sample, eval, score, ...).

Errors exit with status 2 and one line on stderr, never a traceback, all in one style:
`minigpt2: error: <message>`, naming the flag the user typed; a command line argparse refuses
ends with where its help is. A bare `minigpt2` prints its help on stderr and exits 2, as
argparse does for any incomplete command line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from types import UnionType
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    NoReturn,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from minigpt2.core.cli.progress import LoadingBar, ProgressBar
from minigpt2.core.cli.repair import (
    add_repair_parser,
    categories_field,
    category_arg,
    cmd_repair,
    data_sources,
    kinds_field,
    kinds_of,
    liked_categories,
)
from minigpt2.core.config import DEFAULT_PRESET, PRESETS
from minigpt2.core.data.words import (
    DEFAULT_DATASET,
    WordListError,
    builtin_datasets,
    default_checkpoint_path,
    load_words,
    parse_words,
)
from minigpt2.core.sample.request import (
    ALWAYS,
    MAX_LIKE_EXAMPLES,
    Mix,
    Option,
    Sample,
    SampleConfig,
    options,
)
from minigpt2.core.train.build import build_trainer
from minigpt2.core.train.plan import TrainPlan, TrainResult

if TYPE_CHECKING:
    from minigpt2.core.sample.sampler import Sampler  # torch: imported where a command needs it

DEFAULT_OUT = "minigpt2.safetensors"
DISTRIBUTION = "minigpt2-tui"  # pyproject's name: what --version reports


class UsageError(Exception):
    """A command line argparse refuses; `prog` is the (sub)command it was parsing."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message)  # one line, not argparse's usage and exit


def package_version() -> str:
    """The installed package's version; a source tree that was never installed has none."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="minigpt2", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    # Not required: a bare `minigpt2` gets the whole help rather than argparse's one line.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    commands.add_parser("datasets", help="list the built-in word lists")
    commands.add_parser("presets", help="list the model presets")

    train = commands.add_parser("train", help="train a model on a word list")
    train.add_argument(
        "--data",
        action="append",
        help=f"built-in list name or word file (default: {DEFAULT_DATASET}); "
        "give it again to train one model on several lists, each a category",
    )
    train.add_argument(
        "--val-data", help="validation word file (default: 20%% of --data, at most 10,000 words)"
    )
    train.add_argument(
        "--preset", choices=list(PRESETS), help=f"(default: {DEFAULT_PRESET})"
    )
    bound = train.add_mutually_exclusive_group()
    bound.add_argument("--epochs", type=int)
    bound.add_argument("--steps", type=int)
    bound.add_argument("--time-budget", type=float, metavar="SECONDS")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--seed", type=int)
    train.add_argument("--device", help="auto (the default), cpu, cuda or mps")
    train.add_argument("--threads", type=int, help="torch CPU threads (default: half the cores)")
    train.add_argument("--keep-case", action="store_true", help="do not lowercase the words")
    train.add_argument("--resume", metavar="CKPT", help="continue a run from its checkpoint")
    train.add_argument(
        "--out",
        metavar="CKPT",
        help=f"checkpoint to write (default: {DEFAULT_OUT}, or the --resume file)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    sample = commands.add_parser("sample", help="invent names with a trained model")
    _checkpoint_arg(sample)
    _sample_args(sample)

    evaluate = commands.add_parser("eval", help="loss of a model on a word file")
    _checkpoint_arg(evaluate)
    evaluate.add_argument("--data", required=True, help="built-in list name or word file")
    category_arg(evaluate, "the words as names of this kind")

    score = commands.add_parser("score", help="log-probability of your own words")
    _checkpoint_arg(score)
    score.add_argument("words", nargs="+", metavar="WORD")
    score.add_argument("--json", action="store_true")
    category_arg(score, "score the words as names of this kind")
    _checkpoint_arg(add_repair_parser(commands))
    return parser


def _sample_args(sample: argparse.ArgumentParser) -> None:
    """The flags of `sample`, each built from its SampleConfig field's Option (request.py):
    a new sampling option needs no line here. Kinds come from --category (shared with eval,
    score and repair), and --like-file and --json are the CLI's own."""
    hints = get_type_hints(SampleConfig)
    for name, option in options().items():
        if option.cli == "argument":
            named = {"metavar": option.metavar} if option.metavar else {}
            sample.add_argument(option.flag, dest=name, default=None, help=_help(name, option),
                                **named, **_argument_kind(hints[name]))
    sample.add_argument("--like-file", metavar="FILE", help="names like these: one per line")
    sample.add_argument("--json", action="store_true", help="a JSON list with scores")
    category_arg(sample, "names of this kind")


def _help(name: str, option: Option) -> str:
    """The Option's help, when it applies, and the default a person gets."""
    default = option.default if option.default is not None else _field_defaults()[name]
    when = "" if option.applies is ALWAYS else f"{option.applies.when}: "
    if default in (None, "", False, (), frozenset()):
        return f"{when}{option.help}"
    shown = f"{default:g}" if isinstance(default, float) else str(default).replace("_", "-")
    if option.help.endswith(")"):  # "(0 = none)": "(0 = none; default 2)"
        return f"{when}{option.help[:-1]}; default {shown})"
    return f"{when}{option.help} (default {shown})"


def _field_defaults() -> dict[str, Any]:
    return {f.name: f.default for f in fields(SampleConfig)}


def _argument_kind(hint: Any) -> dict[str, Any]:  # noqa: ANN401 - a type hint
    """argparse's arguments for a field of this type: a switch, a number, a choice (a
    Literal, with hyphens for underscores), a repeated value (a tuple), or a file of words
    (a set)."""
    if get_origin(hint) in (Union, UnionType):  # X | None: an X
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    kind = hint
    if kind is bool:
        return {"action": "store_true"}
    if get_origin(kind) is Literal:
        return {"choices": [value.replace("_", "-") for value in get_args(kind)]}
    if get_origin(kind) is tuple:
        return {"action": "append"}
    return {"type": kind if kind in (int, float) else str}


def _checkpoint_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        metavar="CKPT",
        type=Path,
        help="trained model (default: the shipped default model)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _fail(f"{exc}; see {exc.prog} --help")
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2  # argparse's status for an incomplete command line: nothing was done
    try:
        return COMMANDS[args.command](args)
    except (ValueError, OSError) as exc:  # our errors subclass ValueError
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")


def _fail(message: str) -> int:
    """Print an error in the CLI's one style; return the exit status."""
    print(f"minigpt2: error: {message}", file=sys.stderr)
    return 2


def note(message: str) -> None:
    """A line for the user on stderr that is not an error, in the errors' style."""
    print(f"minigpt2: {message}", file=sys.stderr)


# --- commands -------------------------------------------------------------------------------


def cmd_datasets(args: argparse.Namespace) -> int:
    for info in builtin_datasets():
        marker = "  (default)" if info.name == DEFAULT_DATASET else ""
        print(f"{info.name:<20} {info.count:>6} words{marker}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    for preset in PRESETS.values():
        print(f"{preset.name:<10} {preset.description}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    plan = TrainPlan(
        data=data_sources(args.data),
        val_data=args.val_data,
        preset=args.preset,
        epochs=args.epochs,
        steps=args.steps,
        time_budget_s=args.time_budget,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        keep_case=args.keep_case,
        resume=args.resume,
    )
    with LoadingBar(enabled=not args.quiet and sys.stderr.isatty()) as loading:
        trainer = build_trainer(plan, on_load=loading.update)
    if trainer.bounds.reached(trainer.step, 0.0):  # only a resumed run can start at its end
        note(_nothing_left(args.resume, trainer.step, trainer.total_steps))
        return 0  # a run would save the checkpoint unchanged, or copy it to --out
    out = Path(args.out or args.resume or DEFAULT_OUT)
    _check_writable(out)

    previous = signal.signal(signal.SIGINT, lambda *_: trainer.stop())  # save, don't lose work
    if not args.quiet:
        print(f"training; Ctrl-C stops and saves to {out}", file=sys.stderr, flush=True)
    try:
        with ProgressBar(enabled=not args.quiet) as bar:
            trainer.on_event = bar.update
            result = trainer.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    trainer.save(out)
    print(
        json.dumps(
            {
                "preset": trainer.preset,
                "data": trainer.data.source,
                "params": result.params,
                "steps": result.steps,
                "epochs": round(result.epochs, 3),
                "wall_s": round(result.wall_s, 3),
                "train_loss": round(result.train_loss, 4),
                "val_loss": _rounded(result.val_loss),  # the final weights, every val word
                "best_step": result.best_step,  # the weights saved: None if never validated
                **_subset_fields(result),
                "tokens_per_s": round(result.tokens_per_s, 1),
                "device": str(trainer.device),
                "stopped_early": result.stopped,
                "out": str(out),
                **categories_field(trainer.data.categories),
            }
        )
    )
    return 0


def _nothing_left(checkpoint: str, step: int, total_steps: int | None) -> str:
    """Why a resumed run stops before its first step: it is at (or past) its step bound."""
    return (
        f"nothing to do: {checkpoint} is at step {step}, and the run ends at step "
        f"{total_steps}; give a larger --steps or --epochs, or a --time-budget, to go on"
    )


def _rounded(loss: float | None) -> float | None:
    return None if loss is None else round(loss, 4)


def _subset_fields(result: TrainResult) -> dict[str, object]:
    """On a list validated on a subset while training: its size, and the loss on it that
    chose the weights kept (the figure the progress bar showed)."""
    if result.val_subset_words is None:
        return {}
    return {
        "val_subset_words": result.val_subset_words,
        "val_subset_loss": _rounded(result.best_val_loss),
    }


def _check_writable(path: Path) -> None:
    """Fail before training, not after, if the checkpoint cannot be written."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"{path}: the folder {parent} does not exist")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a checkpoint file name")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"{path}: the folder {parent} is not writable")


def _sampler(path: Path | None):  # noqa: ANN202 - torch imported lazily
    from minigpt2.core.sample.sampler import Sampler

    checkpoint = path or default_checkpoint_path()
    return Sampler.from_checkpoint(checkpoint)


def _sample_config(args: argparse.Namespace) -> SampleConfig:
    """The `sample` flags given, as the request a person asks for (defaults from each
    Option): the config checks the values, and its message is the CLI's. A flag that has no
    effect on this request (its Option says when it applies) gets a one-line warning."""
    hints = get_type_hints(SampleConfig)
    given: dict[str, Any] = {}
    for name, option in options().items():
        value = getattr(args, name, None) if option.cli == "argument" else None
        kind = get_origin(hints[name])
        if value is None:
            continue
        if kind is Literal:  # a choice as typed: "per-char"
            value = value.replace("-", "_")
        elif kind is frozenset:  # a file of words
            value = frozenset(load_words(value, keep_case=True))
        given[name] = value
    if examples := _examples(args):
        given["like"] = examples
    elif "like_strength" in given:
        raise ValueError("--like-strength needs example names: --like NAME or --like-file")
    if kinds := kinds_of(args):
        given["kinds"] = kinds
    config = SampleConfig.asked(**given)
    for option in config.not_applying(given):
        print(f"minigpt2: warning: {option.flag} applies only {option.applies.when}; ignored",
              file=sys.stderr)
    return config


def _examples(args: argparse.Namespace) -> tuple[str, ...]:
    """--like names, then --like-file's; more than MAX_LIKE_EXAMPLES are cut, with a note."""
    names = list(args.like or [])
    if args.like_file is not None:
        path = Path(args.like_file).expanduser()
        try:
            names += parse_words(path.read_bytes(), str(path), keep_case=True)
        except OSError as exc:
            raise WordListError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(set(names)) > MAX_LIKE_EXAMPLES:
        print(
            f"note: {len(set(names))} example names; using the first {MAX_LIKE_EXAMPLES}",
            file=sys.stderr,
        )
    return tuple(names)


def cmd_sample(args: argparse.Namespace) -> int:
    config = _sample_config(args)
    sampler = _sampler(args.checkpoint)
    samples = sampler.sample(config)
    if len(samples) < config.n:
        print(
            f"found {len(samples)} of {config.n} names within {config.time_limit_s:g} s",
            file=sys.stderr,
        )
    if config.most_likely and not all(s.proven for s in samples):
        print(
            "the ranking is not proven: the search stopped before it could rule out every "
            "other name (a rare constraint, per-char ranking, or the time limit)",
            file=sys.stderr,
        )
    if args.json:
        applied = config.constraints()
        liked = liked_categories(sampler, [s.name for s in samples])
        asked = {**kinds_field(Mix.of(config.kinds)), **_like_field(config)}
        proven = [{"proven": s.proven} if config.most_likely else {} for s in samples]
        rows = [
            {**_row(s), **extra, **asked, "cut": s.cut, **ranked, "constraints": applied}
            for s, extra, ranked in zip(samples, liked, proven, strict=True)
        ]
        print(json.dumps(rows))
    else:
        for s in samples:
            print(s.shown)
    return 0


def _like_field(config: SampleConfig) -> dict[str, dict[str, float]]:
    if not config.like:
        return {}
    return {"like": {"examples": len(config.like), "strength": config.like_strength}}


def _row(s: Sample) -> dict[str, object]:
    return {"name": s.name, "logprob": round(s.logprob, 4), "source": s.source}


def cmd_eval(args: argparse.Namespace) -> int:
    kinds = kinds_of(args)
    sampler = _sampler(args.checkpoint)
    words, too_long = _fitting(sampler, load_words(args.data, keep_case=not sampler.folds_case))
    from minigpt2.core.train.evaluate import evaluate_words

    sampler.check_kinds(kinds)
    loss, tokens = evaluate_words(sampler.model, sampler.vocab, words, kinds)
    record: dict[str, Any] = {"loss": round(loss, 4), "words": len(words), "tokens": tokens}
    if too_long:
        record["too_long"] = {"count": len(too_long), "first": too_long[:SHOWN_TOO_LONG]}
    print(json.dumps({**record, **kinds_field(kinds)}))
    return 0


SHOWN_TOO_LONG = 5  # the too-long words a report names; it gives the count of all


def _fitting(sampler: Sampler, words: list[str]) -> tuple[list[str], list[str]]:
    """The words the model takes, and those too long for it, reported on stderr. Raises
    ValueError when none fits."""
    from minigpt2.core.train.evaluate import split_too_long

    fitting, too_long = split_too_long(words, sampler.model.config.block_size)
    shown = ", ".join(too_long[:SHOWN_TOO_LONG]) + ", ..." * (len(too_long) > SHOWN_TOO_LONG)
    limit = f"longer than this model's {sampler.max_chars} characters: {shown}"
    if not fitting:
        raise ValueError(f"every word is {limit}")
    if too_long:
        plural = "s" * (len(too_long) > 1)
        note(f"left out {len(too_long)} word{plural} {limit}")
    return fitting, too_long


def cmd_score(args: argparse.Namespace) -> int:
    kinds = kinds_of(args)
    sampler = _sampler(args.checkpoint)
    words, _ = _fitting(sampler, [sampler.fold(word) for word in args.words])
    scores = [sampler.score(word, kinds) for word in words]
    if args.json:
        liked = liked_categories(sampler, words)
        print(
            json.dumps(
                [
                    {
                        "word": s.word,
                        "logprob": round(s.logprob, 4),
                        "logprob_per_token": round(s.logprob_per_token, 4),
                        "source": s.source,
                        **extra,
                        **kinds_field(kinds),
                    }
                    for s, extra in zip(scores, liked, strict=True)
                ]
            )
        )
    else:
        for s in scores:
            print(f"{s.word}\t{s.logprob:.3f}\t{s.logprob_per_token:.3f}/token\t{s.source}")
    return 0


COMMANDS = {
    "datasets": cmd_datasets,
    "presets": cmd_presets,
    "train": cmd_train,
    "sample": cmd_sample,
    "eval": cmd_eval,
    "score": cmd_score,
    "repair": lambda args: cmd_repair(args, _sampler(args.checkpoint)),
}

if __name__ == "__main__":
    sys.exit(main())
