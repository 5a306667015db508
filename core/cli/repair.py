"""The CLI's category and spelling-repair parts: `train --data A --data B`, `--category`,
the `category` field of JSON records, and `minigpt2 repair`."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from minigpt2.core.sample.request import Mix, parse_kinds

if TYPE_CHECKING:
    from minigpt2.core.sample.sampler import Sampler


def data_sources(given: list[str] | None) -> str | tuple[str, ...] | None:
    """One --data is one list, as always; several train one model with categories."""
    if not given:
        return None
    return given[0] if len(given) == 1 else tuple(given)


def categories_field(categories: list[str]) -> dict[str, list[str]]:
    return {"categories": categories} if categories else {}


def category_arg(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--category",
        action="append",
        metavar="KIND[=WEIGHT]",
        help=f"a model trained with categories: {what} (default: no category); give it again "
        "to mix kinds, e.g. --category animals=0.7 --category fruits-vegetables=0.3",
    )


def kinds_of(args: argparse.Namespace) -> Mix:
    """The --category values as a mix: empty for none, one kind of weight 1, or several."""
    return parse_kinds(args.category or [])


def kinds_field(kinds: Mix) -> dict[str, dict[str, float]]:
    """The kinds asked for, as JSON records give them: {"kinds": {"animals": 0.7, ...}}."""
    return {"kinds": kinds.rounded()} if kinds else {}


def add_repair_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The `repair` subcommand; the caller adds --checkpoint."""
    repair = commands.add_parser("repair", help="did you mean: likely intended words")
    repair.add_argument("words", nargs="+", metavar="WORD")
    repair.add_argument("-n", type=int, default=5, help="candidates per word (default 5)")
    category_arg(repair, "words of this kind")
    repair.add_argument("--json", action="store_true", help="one JSON list, a record per word")
    return repair


def liked_categories(sampler: Sampler, names: list[str]) -> list[dict[str, str | None]]:
    """Per name, {"category": the one the model likes it most under}; {} without categories."""
    from minigpt2.core.sample.logprobs import best_categories

    if not sampler.categories:
        return [{} for _ in names]
    return [{"category": c} for c in best_categories(sampler, names)]


def cmd_repair(args: argparse.Namespace, sampler: Sampler) -> int:
    from minigpt2.core.sample.repair import Repairer

    if args.n < 1:
        raise ValueError("-n must be at least 1")
    kinds = kinds_of(args)
    sampler.check_kinds(kinds)
    repairer = Repairer.from_sampler(sampler, category=kinds)
    results = [(word, repairer.suggest(word, args.n)) for word in args.words]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "word": word,
                        "candidates": [
                            {
                                "name": c.name,
                                "score": round(c.score, 4),
                                "edits": c.edits,
                                "source": c.source,
                            }
                            for c in candidates
                        ],
                    }
                    for word, candidates in results
                ]
            )
        )
    else:
        for word, candidates in results:
            shown = "  ".join(f"{c.name} ({c.score:.2f})" for c in candidates)
            print(f"{word}\t{shown or '(no candidates)'}")
    return 0
